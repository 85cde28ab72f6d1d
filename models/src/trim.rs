//! Function tables cut to the inputs where the function changes.
//!
//! A quantized function table covers its input's whole range (4,096 rows for a 12-bit
//! activation), but most functions are flat at the ends once rounded: Sigmoid and Tanh reach
//! their limits, Softmax's exponential reaches 0, GELU reaches 0 on the left and `x` on the
//! right. A [`TrimmedTable`] keeps only the part where values change, and says what lies beyond
//! each cut, so that [`TrimmedTable::eval`] equals the whole table at every input:
//!
//! ```text
//! c_low = max(x, a)      (if the table is cut below)
//! c     = min(c_low, b)  (if cut above)
//! y     = T[c] + (x - c_low if the low end is the identity) + (c_low - c if the high end is)
//! ```
//!
//! The quantizer sizes tables by their trimmed length; the circuit compiler lays them out
//! trimmed when that pays (`zkinfer_circuits`' `FunctionTables::Trimmed`).
//!
//! ```
//! use zkinfer_models::quantized::LookupTable;
//! use zkinfer_models::trim::TrimmedTable;
//! let whole = LookupTable { input_min: -4, values: vec![0, 0, 0, 1, 2, 3, 3, 3, 3] };
//! let t = TrimmedTable::trim(&whole);
//! assert_eq!(t.table.values, [0, 1, 2, 3]);
//! assert!((-4..=4).all(|x| t.eval(x) == whole.get(x)));
//! ```

use crate::quantized::LookupTable;

/// How a table behaves beyond one end of its trimmed part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Beyond {
    /// Not cut: the trimmed table reaches the input range's end.
    Covered,
    /// Every value beyond the cut equals the value at the cut.
    Constant,
    /// Every value beyond the cut equals its input.
    Identity,
}

/// A table cut to where its values change, and what lies beyond each cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrimmedTable {
    /// The kept part: inputs `a..=b`.
    pub table: LookupTable,
    /// Below `a`.
    pub low: Beyond,
    /// Above `b`.
    pub high: Beyond,
}

/// Fewest entries a run must have to be cut (shorter runs save less than the comparison costs).
const MIN_RUN: usize = 2;

/// Length of the run at the start of `0..len` whose indices satisfy `same`.
fn run(len: usize, same: impl Fn(usize) -> bool) -> usize {
    (0..len).take_while(|&i| same(i)).count()
}

impl TrimmedTable {
    /// The untouched table.
    pub fn whole(table: &LookupTable) -> Self {
        Self { table: table.clone(), low: Beyond::Covered, high: Beyond::Covered }
    }

    /// Cuts the constant or identity runs at both ends of `table`.
    pub fn trim(table: &LookupTable) -> Self {
        let v = &table.values;
        let n = v.len();
        if n <= MIN_RUN {
            return Self::whole(table);
        }
        let input = |i: usize| table.input_min + i as i64;
        // The longest run at each end, as (kept index, behaviour beyond it).
        let end = |constant: usize, identity: usize, first: bool| {
            let (len, beyond) =
                if constant >= identity { (constant, Beyond::Constant) } else { (identity, Beyond::Identity) };
            match (len >= MIN_RUN, first) {
                (false, true) => (0, Beyond::Covered),
                (false, false) => (n - 1, Beyond::Covered),
                (true, true) => (len - 1, beyond),
                (true, false) => (n - len, beyond),
            }
        };
        let (lo, low) = end(run(n, |i| v[i] == v[0]), run(n, |i| v[i] == input(i)), true);
        let (hi, high) = end(run(n, |i| v[n - 1 - i] == v[n - 1]), run(n, |i| v[n - 1 - i] == input(n - 1 - i)), false);
        // A table constant (or the identity) throughout: the low cut alone keeps one entry.
        let (hi, high) = if hi < lo { (lo, if lo == n - 1 { Beyond::Covered } else { high }) } else { (hi, high) };
        let high = if hi == n - 1 { Beyond::Covered } else { high };
        Self { table: LookupTable { input_min: input(lo), values: v[lo..=hi].to_vec() }, low, high }
    }

    /// The kept inputs `a..=b`.
    pub fn bounds(&self) -> (i64, i64) {
        (self.table.input_min, self.table.input_min + self.table.values.len() as i64 - 1)
    }

    /// The value the trimmed rule gives for input `x` (the reference for the circuit's layout);
    /// `None` where the clamped input has no entry (an input outside the whole table).
    pub fn eval(&self, x: i64) -> Option<i64> {
        let (lo, hi) = self.bounds();
        let c_low = if self.low == Beyond::Covered { x } else { x.max(lo) };
        let c = if self.high == Beyond::Covered { c_low } else { c_low.min(hi) };
        let mut y = self.table.get(c)?;
        if self.low == Beyond::Identity {
            y += x - c_low;
        }
        if self.high == Beyond::Identity {
            y += c_low - c;
        }
        Some(y)
    }

    /// Rows the kept part takes.
    pub fn len(&self) -> usize {
        self.table.values.len()
    }

    /// True for an empty table.
    pub fn is_empty(&self) -> bool {
        self.table.values.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn table(input_min: i64, values: &[i64]) -> LookupTable {
        LookupTable { input_min, values: values.to_vec() }
    }

    fn assert_same(whole: &LookupTable, t: &TrimmedTable) {
        for (i, &want) in whole.values.iter().enumerate() {
            let x = whole.input_min + i as i64;
            assert_eq!(t.eval(x), Some(want), "x = {x}");
        }
    }

    #[test]
    fn saturating_ends_are_cut_to_one_entry_each() {
        let whole = table(-5, &[0, 0, 0, 1, 2, 3, 4, 4, 4, 4, 4]);
        let t = TrimmedTable::trim(&whole);
        assert_eq!(t.table, table(-3, &[0, 1, 2, 3, 4]));
        assert_eq!((t.low, t.high), (Beyond::Constant, Beyond::Constant));
        assert_same(&whole, &t);
    }

    #[test]
    fn an_identity_end_is_cut_and_added_back() {
        // GELU-like: 0 on the left, the input itself on the right.
        let whole = table(-6, &[0, 0, 0, -1, -1, -1, 0, 1, 2, 3, 4]);
        let t = TrimmedTable::trim(&whole);
        assert_eq!((t.low, t.high), (Beyond::Constant, Beyond::Identity));
        assert_eq!(t.table, table(-4, &[0, -1, -1, -1]));
        assert_same(&whole, &t);
    }

    #[test]
    fn short_runs_and_changing_ends_are_kept() {
        let whole = table(0, &[5, 3, 3, 2, 9, 9]);
        let t = TrimmedTable::trim(&whole);
        assert_eq!(t.low, Beyond::Covered);
        assert_eq!(t.high, Beyond::Constant);
        assert_eq!(t.table, table(0, &[5, 3, 3, 2, 9]));
        assert_same(&whole, &t);
        let tiny = table(3, &[1, 1]);
        assert_eq!(TrimmedTable::trim(&tiny), TrimmedTable::whole(&tiny));
    }

    #[test]
    fn constant_and_identity_tables_keep_one_entry() {
        for whole in [table(-3, &[7; 9]), table(-3, &[-3, -2, -1, 0, 1, 2])] {
            let t = TrimmedTable::trim(&whole);
            assert_eq!(t.table.values.len(), 1, "{whole:?}");
            assert_same(&whole, &t);
        }
    }

    /// Every table of small random values over a random range: the trimmed rule equals the table.
    #[test]
    fn trimming_never_changes_a_value() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        for _ in 0..2_000 {
            let n = 1 + next(12) as usize;
            let input_min = next(9) as i64 - 4;
            // Values drawn from a few choices, with runs of constants and of inputs likely.
            let values: Vec<i64> = (0..n)
                .map(|i| match next(4) {
                    0 => input_min + i as i64,
                    1 => 0,
                    2 => 1,
                    _ => next(5) as i64 - 2,
                })
                .collect();
            let whole = table(input_min, &values);
            let t = TrimmedTable::trim(&whole);
            assert!(t.table.values.len() <= n);
            assert_same(&whole, &t);
        }
    }
}
