//! The layout planner: chooses the linear layout ([`LinearLayout`]: dot product or outer
//! product), the number of lanes (columns) against rows, and `k`.
//!
//! For each candidate it compiles the model without a witness (cheap: no field arithmetic),
//! counts rows, and derives `k` from rows, lookup tables and halo2's blinding rows. It keeps
//! the candidate with the lowest estimated proving cost,
//! `2^k · (advice columns + 3 · lookups + equality-enabled columns)`: each advice column costs
//! one commitment and FFTs of size 2^k, each lookup three more committed columns, and each
//! equality-enabled column a share of the permutation argument. BENCHMARKS.md checks the
//! ranking against measured prove times. Dense-heavy models get the outer product (few
//! equality-enabled columns); convolutions with few output channels the dot product (few rows).
//! For a model with function tables it also weighs whole tables against trimmed ones
//! ([`FunctionTables`]): trimming shortens a table that would otherwise set `k`, at the cost of
//! clamping comparisons per element. For a model whose layers are followed by clamps it weighs
//! comparison rows against computing the clamps in the layers' rescale rows ([`ClampForm`]:
//! more limb columns, no rows). [`PlanOptions`] lets an operator fix any of these choices.

use serde::Serialize;
use zkinfer_models::QuantizedModel;

use crate::circuit::required_k;
use crate::compile::{CompileError, build, clamps_in_rescale, needs_function_table};
use crate::layout::{ClampForm, FunctionTables, Layout, LinearLayout, MAX_K, MIN_LANES};

/// Lane counts the planner tries.
pub const LANE_CANDIDATES: &[usize] = &[8, 12, 16, 24, 32, 48, 64];

/// Width of a range-table limb.
pub const RANGE_BITS: u32 = 8;

/// The chosen layout and what it costs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// Column counts.
    pub layout: Layout,
    /// `log2` of the circuit's rows.
    pub k: u32,
    /// Rows the model uses.
    pub rows: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Fixed columns (with the constants column, without table columns).
    pub fixed_columns: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Rows of the lookup tables.
    pub table_rows: usize,
    /// Rows of the function tables alone (all functions together; 0 without any).
    pub function_table_rows: usize,
    /// Rows the function tables may take without raising `k` (see
    /// [`crate::function_table_budget`]).
    pub function_table_budget: usize,
    /// The cost estimate the planner minimised.
    pub estimated_cost: f64,
}

fn evaluate(model: &QuantizedModel, layout: Layout) -> Result<Plan, CompileError> {
    let builder = build(model, layout, None)?;
    if builder.limbs_needed > layout.limbs {
        return Err(CompileError::Limbs { limbs: layout.limbs, needed: builder.limbs_needed });
    }
    let (spec, _) = builder.finish();
    let k = required_k(&spec);
    let lookups = layout.limbs + usize::from(layout.function_table);
    let equality = layout.equality_columns();
    let advice = layout.advice_columns();
    let cost = (1u64 << k) as f64 * (advice + 3 * lookups + equality) as f64;
    Ok(Plan {
        layout,
        k,
        rows: spec.rows,
        advice_columns: advice,
        fixed_columns: layout.fixed_columns() + 1,
        lookups,
        table_rows: spec.table_rows(),
        function_table_rows: spec.function_table.len(),
        function_table_budget: crate::circuit::function_table_budget(&spec),
        estimated_cost: cost,
    })
}

/// The layout for `model` with a given linear layout, number of lanes, table form and clamp
/// form (limb columns and tables as needed). A model without function tables always gets
/// [`FunctionTables::Whole`] (there is nothing to trim), one without a clamp a rescale can
/// compute [`ClampForm::Compared`].
pub fn plan_with_lanes(
    model: &QuantizedModel,
    linear: LinearLayout,
    lanes: usize,
    tables: FunctionTables,
    clamps: ClampForm,
) -> Result<Plan, CompileError> {
    let function_table = needs_function_table(model);
    // Half the weight range: stored weights are then small and non-negative (see Layout).
    let weight_offset = 1u32 << model.settings.weight_bits.saturating_sub(1).min(30);
    // Limb columns: as many as the widest rescale needs.
    let probe = Layout {
        lanes: lanes.max(MIN_LANES),
        limbs: 64,
        range_bits: RANGE_BITS,
        function_table,
        linear,
        weight_offset,
        tables: if function_table { tables } else { FunctionTables::Whole },
        clamps: if clamps_in_rescale(model) > 0 { clamps } else { ClampForm::Compared },
    };
    let limbs = build(model, probe, None)?.limbs_needed.max(1);
    evaluate(model, Layout { limbs, ..probe })
}

/// Checks a layout read from untrusted bytes: it must be exactly the layout the planner derives
/// for `model` with the layout's own choices (linear layout, lanes, table form, clamp form), so that the
/// table flags, limb columns, limb width and weight offset all follow from the model. A layout
/// without the function table for a model with Sigmoid, say, would leave those outputs free.
/// Returns the derived plan (its `k` is the one the circuit needs).
pub fn check_layout(model: &QuantizedModel, layout: Layout) -> Result<Plan, CompileError> {
    let derived = plan_with_lanes(model, layout.linear, layout.lanes, layout.tables, layout.clamps)?;
    if derived.layout != layout {
        return Err(CompileError::LayoutMismatch { declared: layout, derived: derived.layout });
    }
    Ok(derived)
}

/// Restricts what the planner may choose (an operator's override); `None` leaves it free.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Only this linear layout.
    pub linear: Option<LinearLayout>,
    /// Only this many lanes (at least [`MIN_LANES`]).
    pub lanes: Option<usize>,
    /// Only this table form.
    pub tables: Option<FunctionTables>,
    /// Only this clamp form.
    pub clamps: Option<ClampForm>,
}

/// Chooses the layout for `model` (see the module docs).
pub fn plan(model: &QuantizedModel) -> Result<Plan, CompileError> {
    plan_with(model, PlanOptions::default())
}

/// Chooses the layout for `model` among those `options` allow.
pub fn plan_with(model: &QuantizedModel, options: PlanOptions) -> Result<Plan, CompileError> {
    let mut best: Option<Plan> = None;
    let lane_candidates = options.lanes.map_or_else(|| LANE_CANDIDATES.to_vec(), |l| vec![l.max(MIN_LANES)]);
    // Trimming only changes a model with function tables.
    let table_forms: Vec<FunctionTables> = if needs_function_table(model) {
        FunctionTables::ALL.into_iter().filter(|&t| options.tables.is_none_or(|o| o == t)).collect()
    } else {
        vec![FunctionTables::Whole]
    };
    // Clamps in the rescale only change a model with such clamps.
    let clamp_forms: Vec<ClampForm> = if clamps_in_rescale(model) > 0 {
        ClampForm::ALL.into_iter().filter(|&c| options.clamps.is_none_or(|o| o == c)).collect()
    } else {
        vec![ClampForm::Compared]
    };
    for linear in LinearLayout::ALL.into_iter().filter(|&l| options.linear.is_none_or(|o| o == l)) {
        for &tables in &table_forms {
            for &clamps in &clamp_forms {
                for &lanes in &lane_candidates {
                    let p = plan_with_lanes(model, linear, lanes, tables, clamps)?;
                    if best.is_none_or(|b| p.estimated_cost < b.estimated_cost) {
                        best = Some(p);
                    }
                }
            }
        }
    }
    let best = best.expect("at least one candidate");
    if best.k > MAX_K {
        return Err(CompileError::TooLarge { k: best.k, lanes: best.layout.lanes, max: MAX_K });
    }
    Ok(best)
}
