//! When a case last had news for the resident: the office's last change, or, for a concern
//! filed here that the office has not spoken of yet, its filing. The screen's "updated at" and
//! the status slip's both come from here.

use chrono::{DateTime, Utc};

use super::{CaseStatus, Store, StoreError};

impl Store {
    /// The office's last change of the case, else when it was filed at this kiosk; `None` only
    /// for a case neither the office nor this kiosk has a time for.
    pub fn last_news_at(&self, status: &CaseStatus) -> Result<Option<DateTime<Utc>>, StoreError> {
        if let Some(changed) = status.changed_at {
            return Ok(Some(changed));
        }
        Ok(self
            .concern_by_ticket(&status.ticket)?
            .map(|record| record.concern.details.created_at.with_timezone(&Utc)))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_fixtures::store_with_concerns;

    #[test]
    fn a_case_without_news_dates_from_its_filing() {
        let (_dir, store) = store_with_concerns(2);
        let status = store.case_status("A1126-002").unwrap().unwrap();
        let news = store.last_news_at(&status).unwrap().unwrap();
        assert_eq!(news.to_rfc3339(), "2026-11-26T01:01:00+00:00");
    }
}
