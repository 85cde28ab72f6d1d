//! The column layout of a model circuit, and the one place where it reaches
//! `Circuit::configure`.
//!
//! halo2_proofs 0.4.1 calls `Circuit::configure` as a static function without parameters, but
//! the number of columns depends on the model. zkinfer solves this once, here: every call that
//! may configure a [`crate::ModelCircuit`] (keygen, proving, verifying-key rebuild, MockProver)
//! runs inside [`with_layout`], which sets a thread-local [`Layout`] for the duration of the
//! call; `configure` reads it with [`current_layout`]. halo2 configures on the calling thread,
//! so the thread-local is always the one the caller set.

use std::cell::Cell;

use serde::{Deserialize, Serialize};

/// Largest `k` (2^k rows) zkinfer builds circuits for. Params generation takes about 70 s at
/// k = 16 on a 2-core machine and grows twofold per step; larger models need chained proofs
/// (roadmap step 6).
pub const MAX_K: u32 = 18;

/// Smallest `k` the circuits use.
pub const MIN_K: u32 = 4;

/// Column counts of a model circuit. Part of the circuit identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Layout {
    /// Advice lanes: inputs of a multiply-accumulate row (and operands of other rows).
    pub lanes: usize,
    /// Limb columns of the range decomposition, each with a lookup into the range table.
    pub limbs: usize,
    /// Limb width in bits: the range table holds every `(w, v)` with `1 ≤ w ≤ range_bits`, `v < 2^w`.
    pub range_bits: u32,
    /// Whether the circuit has a function table (Sigmoid, Tanh, Softmax's exponential).
    pub function_table: bool,
    /// How Dense and Conv layers are laid out (and with it, which lanes take copies).
    pub linear: LinearLayout,
    /// The weight columns hold `w + weight_offset`, and the gates subtract it again. Any value
    /// is sound; with half the weight range the stored values are small and non-negative, which
    /// makes committing to the weight columns (keygen, verifying-key rebuild) several times
    /// cheaper: a negative `w` is the field element `p - |w|`, a full-width MSM scalar.
    pub weight_offset: u32,
    /// Whether function tables cover their input's whole range or only where the function
    /// changes (the planner's choice).
    pub tables: FunctionTables,
    /// Whether a clamp after a layer is compared row by row or applied in the layer's rescale
    /// (the planner's choice).
    pub clamps: ClampForm,
}

/// How a clamp (`Clip`, or a quantize-dequantize pair) that reads a layer's output is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClampForm {
    /// One comparison row per clamped value and bound.
    #[default]
    Compared,
    /// In the layer's rescale row (gate `rescale clamp`, see `chips::range`): no row of its own,
    /// but more limb columns (a boolean and the difference's limbs) and one fixed column per
    /// limb. Pays when the clamped values' rows would set `k`.
    InRescale,
}

impl ClampForm {
    /// Both forms, in the order the planner tries them.
    pub const ALL: [ClampForm; 2] = [ClampForm::Compared, ClampForm::InRescale];
}

/// How the function tables (Sigmoid, Tanh, Erf, Exp, Log, GELU, Softmax's exponential) are
/// laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FunctionTables {
    /// Each table covers its input's whole range: one lookup row per element.
    #[default]
    Whole,
    /// Each table is cut to the inputs where its values change, and inputs are clamped into it
    /// first (one or two comparisons per element; see `compile::table`): fewer table rows,
    /// more circuit rows. Pays when the tables set `k`.
    Trimmed,
}

impl FunctionTables {
    /// Both forms, in the order the planner tries them.
    pub const ALL: [FunctionTables; 2] = [FunctionTables::Whole, FunctionTables::Trimmed];
}

/// How the layers that share their inputs between many outputs (Dense, Conv) are laid out.
///
/// The permutation argument costs one commitment per equality-enabled column in the verifying
/// key (a full-length MSM over random scalars), one proof evaluation each, and a share of the
/// permutation product columns. The two layouts trade rows against equality-enabled columns:
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinearLayout {
    /// Each output is a dot product: a row multiplies up to `lanes` input cells, copied into the
    /// lanes, by fixed weights. Every lane is equality-enabled. Few rows for convolutions.
    DotProduct,
    /// Up to `lanes` outputs that read the same inputs are computed together: each row streams
    /// one input cell (copied into the `out` column) and every lane accumulates its own output
    /// (`lane_l += w_l · x`); then one shift row per output moves the accumulators into the
    /// rescale column. Only the first [`MIN_LANES`] lanes take copies (for the other chips), so
    /// the permutation argument stays small. Fewer columns to commit for dense layers.
    OuterProduct,
}

impl LinearLayout {
    /// Both layouts, in the order the planner tries them.
    pub const ALL: [LinearLayout; 2] = [LinearLayout::DotProduct, LinearLayout::OuterProduct];
}

/// The fewest lanes a layout may have (the comparison row uses seven).
pub const MIN_LANES: usize = 8;

impl Layout {
    /// Lanes that are equality-enabled, i.e. that may receive copies (`lanes` for
    /// [`LinearLayout::DotProduct`], [`MIN_LANES`] for [`LinearLayout::OuterProduct`]).
    pub fn copy_lanes(&self) -> usize {
        match self.linear {
            LinearLayout::DotProduct => self.lanes,
            LinearLayout::OuterProduct => self.lanes.min(MIN_LANES),
        }
    }
    /// Equality-enabled columns: the copy lanes, `out`, the instance and the constants column.
    pub fn equality_columns(&self) -> usize {
        self.copy_lanes() + 3
    }
    /// Index of lane `i` among the advice columns.
    pub fn lane(&self, i: usize) -> usize {
        i
    }
    /// The accumulator advice column.
    pub fn acc(&self) -> usize {
        self.lanes
    }
    /// The rescaled-output advice column.
    pub fn out(&self) -> usize {
        self.lanes + 1
    }
    /// Limb column `i`.
    pub fn limb(&self, i: usize) -> usize {
        self.lanes + 2 + i
    }
    /// Number of advice columns.
    pub fn advice_columns(&self) -> usize {
        self.lanes + 2 + self.limbs
    }

    /// The value a weight column holds for weight `w`.
    pub fn stored_weight(&self, w: i64) -> i64 {
        w + i64::from(self.weight_offset)
    }
    /// Weight (fixed) column of lane `i`: holds [`Layout::stored_weight`].
    pub fn weight(&self, i: usize) -> usize {
        i
    }
    /// A named fixed column.
    pub fn fixed(&self, f: NamedFixed) -> usize {
        self.lanes + f as usize
    }
    /// Limb `i`'s coefficient in the accumulator relation.
    pub fn coef(&self, i: usize) -> usize {
        self.lanes + NamedFixed::COUNT + i
    }
    /// Limb `i`'s coefficient in the output relation.
    pub fn ycoef(&self, i: usize) -> usize {
        self.lanes + NamedFixed::COUNT + self.limbs + i
    }
    /// Limb `i`'s width tag for the range lookup.
    pub fn tag(&self, i: usize) -> usize {
        self.lanes + NamedFixed::COUNT + 2 * self.limbs + i
    }
    /// Limb `i`'s coefficient in the clamp difference relation ([`ClampForm::InRescale`] only).
    pub fn dcoef(&self, i: usize) -> usize {
        self.lanes + NamedFixed::COUNT + 3 * self.limbs + i
    }
    /// A fixed column of the clamp in the rescale ([`ClampForm::InRescale`] only): after the
    /// per-limb columns, so that layouts without it keep every other column's index.
    pub fn clamp_fixed(&self, f: ClampFixed) -> usize {
        self.lanes + NamedFixed::COUNT + 4 * self.limbs + f as usize
    }
    /// The limb column of the clamp's boolean `t` (the one before the sign's).
    pub fn clamp_flag_limb(&self) -> usize {
        self.limbs.saturating_sub(2)
    }
    /// Number of fixed columns (excluding the constants column and lookup tables).
    pub fn fixed_columns(&self) -> usize {
        let clamp = match self.clamps {
            ClampForm::Compared => 0,
            ClampForm::InRescale => self.limbs + ClampFixed::COUNT,
        };
        self.lanes + NamedFixed::COUNT + 3 * self.limbs + clamp
    }
}

/// Fixed columns with one role each (gate enables and per-row constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedFixed {
    /// Bias added on the first row of a multiply-accumulate chain.
    Bias = 0,
    /// 1 where the accumulator continues from the previous row, 0 on a chain's first row.
    Cont,
    /// Enables the multiply-accumulate gate.
    QMac,
    /// Enables the rescale-and-range gate.
    QRescale,
    /// Enables the rescale gate with a fused Relu: the output is `max(y, 0)`.
    QRescaleRelu,
    /// Constant `C` of the rescale relation `acc + C = Σ coef·limb`.
    RescaleC,
    /// Constant `Y0` of the output relation `out + Y0 = Σ ycoef·limb`.
    RescaleY0,
    /// Enables the comparison gate.
    QMax,
    /// Enables the argmax index gate.
    QArgMax,
    /// Enables the outer-product multiply-accumulate gate ([`LinearLayout::OuterProduct`]).
    QOuter,
    /// Enables the shift gate that moves outer-product accumulators into the rescale column.
    QShift,
    /// Position `j` of the element compared by an argmax row.
    ArgMaxIndex,
    /// Enables the function lookup.
    QFunction,
    /// Which function table a lookup row reads.
    FunctionTag,
    /// Enables the division gate.
    QDivision,
    /// The power of two `P` of the division gate.
    DivisionScale,
    /// Enables the product gate.
    QProduct,
}

impl NamedFixed {
    /// Number of named fixed columns (the last one's index plus one).
    pub const COUNT: usize = NamedFixed::QProduct as usize + 1;
}

/// The fixed columns of the clamp in the rescale ([`ClampForm::InRescale`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClampFixed {
    /// Enables the gate `rescale clamp`.
    QRescaleClamp = 0,
    /// The clamp's lower bound `M` (at most 0).
    Min,
    /// The clamp's upper bound `H` (at least 0).
    Max,
}

impl ClampFixed {
    /// Number of clamp columns.
    pub const COUNT: usize = ClampFixed::Max as usize + 1;
}

thread_local! {
    static CURRENT: Cell<Option<Layout>> = const { Cell::new(None) };
}

/// Runs `f` with `layout` as the layout `Circuit::configure` sees (see the module docs).
pub fn with_layout<R>(layout: Layout, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Layout>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(Some(layout))));
    f()
}

/// The layout set by the innermost [`with_layout`].
///
/// # Panics
/// Outside [`with_layout`]: configuring a model circuit without a layout is a programming error.
pub fn current_layout() -> Layout {
    CURRENT.with(Cell::get).expect("a ModelCircuit was configured outside zkinfer_circuits::with_layout")
}
