//! Function tables in the circuit: whole, or trimmed to where the function changes
//! ([`zkinfer_models::trim`] has the rule and its reference evaluation).
//!
//! With [`FunctionTables::Trimmed`] the circuit clamps an input into the kept part with one or
//! two comparisons, looks it up, and adds back what an identity end needs: the interpreter's
//! value exactly, in more rows against a shorter table. The planner weighs the two.

use zkinfer_models::quantized::LookupTable;
use zkinfer_models::trim::{Beyond, TrimmedTable};

use crate::builder::{Builder, CellRef, Operand};
use crate::chips::compare::CompareInstructions;
use crate::chips::function::FunctionInstructions;
use crate::chips::linear::LinearInstructions;
use crate::chips::range::Rescale;
use crate::layout::{FunctionTables, Layout};

/// The table as `layout` lays function tables out.
pub(crate) fn for_layout(layout: Layout, table: &LookupTable) -> TrimmedTable {
    match layout.tables {
        FunctionTables::Whole => TrimmedTable::whole(table),
        FunctionTables::Trimmed => TrimmedTable::trim(table),
    }
}

/// `y = T[x]` through the trimmed table `t` (registered as `tag`), for `x` within `bits` signed
/// bits; `out_bits` is the width of `y` (range-checked when an identity end adds to it).
pub(crate) fn apply(b: &mut Builder, tag: i64, t: &TrimmedTable, x: CellRef, bits: u32, out_bits: u32) -> CellRef {
    let compare_bits = bits + 1;
    let (lo, hi) = t.bounds();
    let c_low = match t.low {
        Beyond::Covered => x,
        _ => b.compare(Operand::Cell(x), Operand::Constant(lo), compare_bits).max,
    };
    let c = match t.high {
        Beyond::Covered => c_low,
        _ => b.compare(Operand::Cell(c_low), Operand::Constant(hi), compare_bits).min,
    };
    let y = b.apply(tag, &t.table, c);
    let mut terms = vec![(y, 1)];
    if t.low == Beyond::Identity {
        terms.extend([(x, 1), (c_low, -1)]);
    }
    if t.high == Beyond::Identity {
        terms.extend([(c_low, 1), (c, -1)]);
    }
    if terms.len() == 1 { y } else { b.linear(&terms, 0, Rescale::signed(0, out_bits)) }
}
