//! The board's words in Chinese (first: the council works in Chinese) and English, one struct
//! per language so that a text missing in one of them does not compile.

use crate::concern::{Colour, Lang, ListKind, Rating};
use crate::office::cases::{CaseError, Urgency};

/// Every fixed text of the board's pages.
pub struct Words {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_code: &'static str,
    pub title: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub name: &'static str,
    pub password: &'static str,
    pub refused: &'static str,
    pub locked: &'static str,
    pub new_today: &'static str,
    pub open_by_colour: &'static str,
    pub overdue: &'static str,
    pub settled_this_week: &'static str,
    pub on_time_rate: &'static str,
    pub satisfaction: &'static str,
    pub not_yet: &'static str,
    pub filter: &'static str,
    pub any: &'static str,
    pub ticket: &'static str,
    pub filed: &'static str,
    pub category: &'static str,
    pub what: &'static str,
    pub place: &'static str,
    pub colour: &'static str,
    pub list: &'static str,
    pub state: &'static str,
    pub handler: &'static str,
    pub kiosk: &'static str,
    pub due: &'static str,
    pub phone: &'static str,
    pub hidden: &'static str,
    pub from: &'static str,
    pub until: &'static str,
    pub no_cases: &'static str,
    pub next_page: &'static str,
    pub previous_page: &'static str,
    pub history: &'static str,
    pub arrived: &'static str,
    pub answer_for_resident: &'static str,
    pub note: &'static str,
    pub reason: &'static str,
    pub back_to_board: &'static str,
    pub lists: &'static str,
    pub print: &'static str,
    pub spreadsheet: &'static str,
    pub printed_on: &'static str,
    pub case_count: &'static str,
    pub accept: &'static str,
    pub recolour: &'static str,
    pub move_list: &'static str,
    pub assign: &'static str,
    pub answer: &'static str,
    pub supervise: &'static str,
    pub follow_up: &'static str,
    pub tick_off: &'static str,
    pub reopen: &'static str,
    pub rating: &'static str,
    pub next_follow_up: &'static str,
    pub signed_in_as: &'static str,
}

pub const ZH: Words = Words {
    lang: "zh-CN",
    other_lang: "English",
    other_lang_code: "en",
    title: "居民议事案件板",
    sign_in: "登录",
    sign_out: "退出",
    name: "用户名",
    password: "密码",
    refused: "用户名或密码不对。",
    locked: "密码错误次数太多，请五分钟后再试。",
    new_today: "今日新收",
    open_by_colour: "未办结（按颜色）",
    overdue: "已超期",
    settled_this_week: "本周销号",
    on_time_rate: "按时答复率",
    satisfaction: "满意率",
    not_yet: "暂无",
    filter: "筛选",
    any: "全部",
    ticket: "编号",
    filed: "提交时间",
    category: "类别",
    what: "内容",
    place: "地点",
    colour: "颜色",
    list: "清单",
    state: "状态",
    handler: "承办人",
    kiosk: "终端",
    due: "期限",
    phone: "电话",
    hidden: "（不显示）",
    from: "从",
    until: "到",
    no_cases: "没有符合条件的案件。",
    next_page: "下一页",
    previous_page: "上一页",
    history: "办理记录",
    arrived: "从终端收到",
    answer_for_resident: "给居民的答复（居民会在终端和手机上看到）",
    note: "备注",
    reason: "原因（必填）",
    back_to_board: "返回案件板",
    lists: "两张清单",
    print: "打印版",
    spreadsheet: "表格",
    printed_on: "打印日期",
    case_count: "件",
    accept: "受理",
    recolour: "改颜色",
    move_list: "换清单",
    assign: "交办",
    answer: "答复",
    supervise: "督办",
    follow_up: "定期跟进",
    tick_off: "销号",
    reopen: "重新打开",
    rating: "居民评价",
    next_follow_up: "下次跟进",
    signed_in_as: "当前用户",
};

pub const EN: Words = Words {
    lang: "en",
    other_lang: "中文",
    other_lang_code: "zh",
    title: "Residents' council case board",
    sign_in: "Sign in",
    sign_out: "Sign out",
    name: "Name",
    password: "Password",
    refused: "The name or the password is wrong.",
    locked: "Too many wrong passwords: try again in five minutes.",
    new_today: "New today",
    open_by_colour: "Open, by colour",
    overdue: "Overdue",
    settled_this_week: "Ticked off this week",
    on_time_rate: "Answered on time",
    satisfaction: "Satisfied",
    not_yet: "none yet",
    filter: "Filter",
    any: "any",
    ticket: "Ticket",
    filed: "Filed",
    category: "Category",
    what: "What",
    place: "Where",
    colour: "Colour",
    list: "List",
    state: "State",
    handler: "Handler",
    kiosk: "Kiosk",
    due: "Due",
    phone: "Phone",
    hidden: "(not shown)",
    from: "From",
    until: "Until",
    no_cases: "No case matches.",
    next_page: "Next page",
    previous_page: "Previous page",
    history: "History",
    arrived: "Received from the kiosk",
    answer_for_resident: "Answer for the resident (they read it at the kiosk and on their phone)",
    note: "Note",
    reason: "Reason (required)",
    back_to_board: "Back to the board",
    lists: "The two lists",
    print: "Print view",
    spreadsheet: "Spreadsheet",
    printed_on: "Printed on",
    case_count: "cases",
    accept: "Accept",
    recolour: "Change colour",
    move_list: "Move to the other list",
    assign: "Assign",
    answer: "Answer",
    supervise: "Supervise",
    follow_up: "Follow up",
    tick_off: "Tick off",
    reopen: "Reopen",
    rating: "Resident's rating",
    next_follow_up: "Next follow-up",
    signed_in_as: "Signed in as",
};

impl Words {
    pub fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::ZhCn => &ZH,
            Lang::En => &EN,
        }
    }

    pub fn is_zh(&self) -> bool {
        self.lang == ZH.lang
    }

    pub fn colour(&self, colour: Colour) -> &'static str {
        match (self.is_zh(), colour) {
            (true, Colour::Green) => "绿色（一周）",
            (true, Colour::Orange) => "橙色（一月）",
            (true, Colour::Red) => "红色（定期跟进）",
            (false, Colour::Green) => "Green (a week)",
            (false, Colour::Orange) => "Orange (a month)",
            (false, Colour::Red) => "Red (followed up)",
        }
    }

    pub fn list_name(&self, list: ListKind) -> &'static str {
        match (self.is_zh(), list) {
            (true, ListKind::Demands) => "居民诉求清单",
            (true, ListKind::Conflicts) => "矛盾问题清单",
            (false, ListKind::Demands) => "Residents' demands list",
            (false, ListKind::Conflicts) => "Conflicts list",
        }
    }

    pub fn urgency(&self, urgency: Urgency) -> &'static str {
        match (self.is_zh(), urgency) {
            (true, Urgency::Overdue) => "已超期",
            (true, Urgency::DueSoon) => "即将到期",
            (true, Urgency::Later) => "",
            (true, Urgency::NothingDue) => "",
            (false, Urgency::Overdue) => "overdue",
            (false, Urgency::DueSoon) => "due soon",
            (false, _) => "",
        }
    }

    /// Why the board refused an action, in the board's language.
    pub fn refusal(&self, error: &CaseError) -> String {
        if !self.is_zh() {
            return error.to_string();
        }
        match error {
            CaseError::NotNow { state, action } => {
                format!(
                    "案件现在是“{}”，不能{}。",
                    state.label_zh(),
                    self.action(action)
                )
            }
            CaseError::NoteNeeded => "请写明原因：这一改动会连同原因记入办理记录。".into(),
            CaseError::EmptyAnswer => "给居民的答复不能为空。".into(),
            CaseError::NoHandler => "请选择承办人。".into(),
            CaseError::NotRed => "只有红色案件需要定期跟进。".into(),
            CaseError::Unchanged(_) => "案件已经是这样了，没有改动。".into(),
            CaseError::AlreadyRated => "居民已经评价过这个案件。".into(),
            CaseError::NotYetAnswered => "还没有答复居民，不能评价。".into(),
        }
    }

    /// A rating's face, in the board's language.
    pub fn rating_word(&self, rating: Rating) -> String {
        let label = rating.label();
        if self.is_zh() { label.zh } else { label.en }
    }

    /// The button text of an action, by its code.
    pub fn action(&self, code: &str) -> &'static str {
        match code {
            "accept" => self.accept,
            "recolour" => self.recolour,
            "move_list" => self.move_list,
            "assign" => self.assign,
            "answer" => self.answer,
            "supervise" => self.supervise,
            "follow_up" => self.follow_up,
            "tick_off" => self.tick_off,
            "rate" => self.rating,
            _ => self.reopen,
        }
    }
}
