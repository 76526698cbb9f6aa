//! The ink a finger leaves on the writing pad: the strokes of one character
//! being written, in pad pixels, kept within fixed bounds so that no amount of
//! scribbling can grow memory or reach the recognizer as an error.

/// The most complex characters in everyday use have about 30 strokes; 40
/// leaves room for a resident's extra or broken strokes without letting a
/// scribble grow without limit.
pub const MAX_STROKES: usize = 40;

/// A long drag sampled at 60 Hz for about 6 seconds. No real stroke is that
/// long; further points are dropped (the stroke itself is kept) so a finger
/// resting on the pad cannot grow memory.
pub const MAX_POINTS_PER_STROKE: usize = 400;

/// One point on the pad, in pixels from the top-left corner (x right, y down).
pub type Point = (i32, i32);

/// The strokes of the character being written on a pad of a fixed size.
///
/// Points outside the pad are clamped onto its edge, and points beyond
/// [`MAX_STROKES`] or [`MAX_POINTS_PER_STROKE`] are dropped silently: the
/// resident must never see an error for writing too much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ink {
    width: u32,
    height: u32,
    strokes: Vec<Vec<Point>>,
    /// Whether `extend_stroke` may add to the last stroke. False after a
    /// dropped `begin_stroke`, so a drag that started while the pad was full
    /// cannot lengthen the previous stroke instead.
    drawing: bool,
}

impl Ink {
    /// An empty pad of `width` x `height` pixels. A zero size is taken as 1 so
    /// that clamping always has a pixel to land on.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width: width.max(1),
            height: height.max(1),
            strokes: Vec::new(),
            drawing: false,
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Starts a new stroke where the finger touched down. Dropped once the pad
    /// is full.
    pub fn begin_stroke(&mut self, x: i32, y: i32) {
        if self.is_full() {
            self.drawing = false;
            return;
        }
        let point = self.clamp(x, y);
        let mut stroke = Vec::with_capacity(64);
        stroke.push(point);
        self.strokes.push(stroke);
        self.drawing = true;
    }

    /// Adds the point the finger moved to. A repeat of the previous point
    /// (touchscreens report those while the finger rests) is ignored, as is a
    /// move with no stroke begun.
    pub fn extend_stroke(&mut self, x: i32, y: i32) {
        if !self.drawing {
            return;
        }
        let point = self.clamp(x, y);
        let Some(stroke) = self.strokes.last_mut() else {
            return;
        };
        if stroke.len() >= MAX_POINTS_PER_STROKE || stroke.last() == Some(&point) {
            return;
        }
        stroke.push(point);
    }

    /// Marks the finger as lifted, so stray moves before the next touch do
    /// not lengthen the finished stroke.
    pub fn end_stroke(&mut self) {
        self.drawing = false;
    }

    pub fn strokes(&self) -> &[Vec<Point>] {
        &self.strokes
    }

    /// A finger is on the pad: the last stroke is still being drawn.
    pub fn is_drawing(&self) -> bool {
        self.drawing
    }

    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty()
    }

    /// True once [`MAX_STROKES`] strokes are on the pad; further strokes are
    /// dropped until the pad is cleared.
    fn is_full(&self) -> bool {
        self.strokes.len() >= MAX_STROKES
    }

    /// The same ink with its first two strokes written the other way round, if it has two:
    /// the model learned some characters (水, with 横撇 before 亅) in an order that is not
    /// the one schools teach.
    pub fn first_strokes_swapped(&self) -> Option<Ink> {
        if self.strokes.len() < 2 {
            return None;
        }
        let mut swapped = self.clone();
        swapped.strokes.swap(0, 1);
        swapped.drawing = false;
        Some(swapped)
    }

    fn clamp(&self, x: i32, y: i32) -> Point {
        (clamp_axis(x, self.width), clamp_axis(y, self.height))
    }
}

fn clamp_axis(value: i32, size: u32) -> i32 {
    // A pad wider than i32::MAX pixels does not exist; saturate rather than
    // wrap should one ever be asked for.
    let last = i32::try_from(size - 1).unwrap_or(i32::MAX);
    value.clamp(0, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_pad_is_empty() {
        let ink = Ink::new(300, 200);
        assert!(ink.is_empty());
        assert_eq!(ink.strokes().len(), 0);
        assert!(!ink.is_full());
        assert_eq!((ink.width(), ink.height()), (300, 200));
    }

    #[test]
    fn strokes_collect_points_in_order() {
        let mut ink = Ink::new(100, 100);
        ink.begin_stroke(10, 10);
        ink.extend_stroke(20, 10);
        ink.extend_stroke(30, 12);
        ink.begin_stroke(50, 5);
        ink.extend_stroke(50, 60);
        assert_eq!(ink.strokes().len(), 2);
        assert_eq!(ink.strokes()[0], vec![(10, 10), (20, 10), (30, 12)]);
        assert_eq!(ink.strokes()[1], vec![(50, 5), (50, 60)]);
    }

    #[test]
    fn repeated_point_is_ignored() {
        let mut ink = Ink::new(100, 100);
        ink.begin_stroke(10, 10);
        ink.extend_stroke(10, 10);
        ink.extend_stroke(11, 10);
        ink.extend_stroke(11, 10);
        ink.extend_stroke(10, 10);
        assert_eq!(ink.strokes()[0], vec![(10, 10), (11, 10), (10, 10)]);
    }

    #[test]
    fn points_are_clamped_into_the_pad() {
        let mut ink = Ink::new(100, 50);
        ink.begin_stroke(-5, -9);
        ink.extend_stroke(500, 20);
        ink.extend_stroke(40, 999);
        ink.extend_stroke(i32::MIN, i32::MAX);
        assert_eq!(ink.strokes()[0], vec![(0, 0), (99, 20), (40, 49), (0, 49)]);
    }

    #[test]
    fn zero_sized_pad_still_takes_ink() {
        let mut ink = Ink::new(0, 0);
        ink.begin_stroke(7, 7);
        assert_eq!(ink.strokes()[0], vec![(0, 0)]);
    }

    #[test]
    fn extend_without_a_stroke_is_ignored() {
        let mut ink = Ink::new(100, 100);
        ink.extend_stroke(5, 5);
        assert!(ink.is_empty());
    }

    #[test]
    fn extend_after_end_is_ignored() {
        let mut ink = Ink::new(100, 100);
        ink.begin_stroke(1, 1);
        ink.end_stroke();
        ink.extend_stroke(5, 5);
        assert_eq!(ink.strokes()[0], vec![(1, 1)]);
    }

    #[test]
    fn long_stroke_is_kept_but_capped() {
        let mut ink = Ink::new(1000, 1000);
        ink.begin_stroke(0, 0);
        for i in 1..2000 {
            ink.extend_stroke(i % 1000, i / 1000);
        }
        assert_eq!(ink.strokes().len(), 1);
        assert_eq!(ink.strokes()[0].len(), MAX_POINTS_PER_STROKE);
    }

    #[test]
    fn strokes_beyond_the_limit_are_dropped() {
        let mut ink = Ink::new(100, 100);
        for i in 0..MAX_STROKES {
            assert!(!ink.is_full());
            ink.begin_stroke(i as i32, 0);
            ink.extend_stroke(i as i32, 10);
        }
        assert!(ink.is_full());
        ink.begin_stroke(90, 90);
        ink.extend_stroke(95, 95);
        assert_eq!(ink.strokes().len(), MAX_STROKES);
        // The dropped drag must not lengthen the last accepted stroke.
        let last = ink.strokes().last().map(Vec::len);
        assert_eq!(last, Some(2));
    }

    #[test]
    fn the_first_two_strokes_swap_and_a_single_stroke_has_no_other_order() {
        let mut ink = Ink::new(100, 100);
        ink.begin_stroke(1, 1);
        ink.end_stroke();
        assert_eq!(ink.first_strokes_swapped(), None);
        ink.begin_stroke(2, 2);
        ink.extend_stroke(3, 3);
        ink.end_stroke();
        let swapped = ink.first_strokes_swapped().expect("two strokes");
        assert_eq!(swapped.strokes(), [vec![(2, 2), (3, 3)], vec![(1, 1)]]);
        assert_eq!(ink.strokes()[0], [(1, 1)], "the original stays as written");
    }
}
