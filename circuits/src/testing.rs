//! Test helpers: a small layout and assertions on MockProver failures.

use halo2_proofs::dev::VerifyFailure;

use crate::builder::{CellRef, CircuitSpec, Witness};
use crate::layout::{ClampForm, FunctionTables, Layout, LinearLayout};

/// Eight lanes, four limbs of up to 6 bits, no function table.
pub fn test_layout() -> Layout {
    Layout {
        lanes: 8,
        limbs: 4,
        range_bits: 6,
        function_table: false,
        linear: LinearLayout::DotProduct,
        weight_offset: 128,
        tables: FunctionTables::Whole,
        clamps: ClampForm::Compared,
    }
}

/// MockProver on the spec and witness; the fast check of the constraint data
/// ([`crate::constraints::check`]) must reach the same verdict with the same kinds of failure.
#[track_caller]
pub fn mock(spec: &CircuitSpec, witness: &Witness) -> Result<(), Vec<VerifyFailure>> {
    let result = crate::circuit::mock_prove(spec, witness);
    let kinds = sorted(result.as_ref().err().into_iter().flatten().map(|f| failure_kind(spec, f)));
    assert_eq!(fast_check(spec, witness, false), kinds, "the fast check disagrees with MockProver");
    result
}

/// A short name for what failed: the gate name, "range lookup", "function lookup",
/// "permutation", or the failure's debug form.
pub fn failure_kind(spec: &CircuitSpec, f: &VerifyFailure) -> String {
    match f {
        VerifyFailure::ConstraintNotSatisfied { constraint, .. } => {
            let s = constraint.to_string();
            let gate = s.rsplit_once("in gate").map_or(s.as_str(), |(_, g)| g);
            gate.split('\'').nth(1).unwrap_or(gate).to_string()
        }
        VerifyFailure::Lookup { lookup_index, .. } if *lookup_index < spec.layout.limbs => "range lookup".into(),
        VerifyFailure::Lookup { .. } => "function lookup".into(),
        VerifyFailure::Permutation { .. } => "permutation".into(),
        other => format!("{other:?}"),
    }
}

/// Asserts that MockProver rejects the witness and that the set of failure kinds is exactly
/// `expected`; the fast check of the constraint data must find the same kinds.
#[track_caller]
pub fn assert_fails_with(spec: &CircuitSpec, witness: &Witness, expected: &[&str]) {
    let failures = mock(spec, witness).expect_err("the tampered witness must be rejected");
    let kinds = sorted(failures.iter().map(|f| failure_kind(spec, f)));
    assert_eq!(kinds, sorted(expected.iter().map(|s| s.to_string())), "failures: {failures:?}");
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.collect();
    v.sort();
    v.dedup();
    v
}

/// The kinds of failure the fast check of the constraint data finds, named as [`failure_kind`]
/// (or, with `detail`, as [`failure_detail`]) names MockProver's.
pub fn fast_check(spec: &CircuitSpec, witness: &Witness, detail: bool) -> Vec<String> {
    use crate::constraints::check::{Failure, check_witness};
    let failures = check_witness(spec, witness).err().unwrap_or_default();
    sorted(failures.iter().map(|f| match f {
        Failure::Gate { gate, constraint, .. } if detail => format!("{gate}: {constraint}"),
        Failure::Gate { gate, .. } => gate.to_string(),
        Failure::Lookup { name, .. } => format!("{name} lookup"),
        Failure::Copy { .. } | Failure::Instance { .. } | Failure::Constant { .. } => "permutation".into(),
    }))
}

/// A precise name for what failed: `gate: constraint` for a gate, else as [`failure_kind`].
pub fn failure_detail(spec: &CircuitSpec, f: &VerifyFailure) -> String {
    match f {
        VerifyFailure::ConstraintNotSatisfied { constraint, .. } => {
            // halo2 writes "Constraint i ('name') in gate g ('gate name')".
            let s = constraint.to_string();
            let quoted: Vec<&str> = s.split('\'').skip(1).step_by(2).collect();
            match quoted.as_slice() {
                [name, gate] => format!("{gate}: {name}"),
                _ => s,
            }
        }
        other => failure_kind(spec, other),
    }
}

/// A witness being forged: every change keeps the copy constraints and the public values
/// consistent, and a rescale row can be re-derived from its accumulator, so a test can leave
/// exactly one relation broken and assert that exactly that relation fails.
pub struct Forgery {
    pub spec: CircuitSpec,
    pub witness: Witness,
    /// For each advice cell (`column * rows + row`), the cells it is copy-constrained to.
    classes: Vec<Vec<CellRef>>,
    /// Instance rows bound to each cell.
    instance_rows: std::collections::HashMap<CellRef, Vec<usize>>,
}

impl Forgery {
    /// Starts from an honest spec and witness.
    pub fn new(spec: CircuitSpec, witness: Witness) -> Self {
        let rows = spec.rows;
        let n = spec.layout.advice_columns() * rows;
        let at = |c: CellRef| c.column * rows + c.row;
        // Union-find over the copy constraints.
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for &(a, b) in &spec.copies {
            let (ra, rb) = (root(&mut parent, at(a)), root(&mut parent, at(b)));
            parent[ra] = rb;
        }
        let mut members: std::collections::HashMap<usize, Vec<CellRef>> = Default::default();
        for &(a, b) in &spec.copies {
            for c in [a, b] {
                let r = root(&mut parent, at(c));
                let m = members.entry(r).or_default();
                if !m.contains(&c) {
                    m.push(c);
                }
            }
        }
        let mut classes = vec![Vec::new(); n];
        for m in members.values() {
            for &c in m {
                classes[at(c)] = m.clone();
            }
        }
        let mut instance_rows: std::collections::HashMap<CellRef, Vec<usize>> = Default::default();
        for &(cell, i) in spec.instance_inputs.iter().chain(&spec.instance_outputs) {
            instance_rows.entry(cell).or_default().push(i);
        }
        Self { spec, witness, classes, instance_rows }
    }

    /// The value of a cell.
    pub fn get(&self, cell: CellRef) -> i64 {
        self.witness.advice[cell.column][cell.row]
    }

    /// Sets `cell` and every cell copy-constrained to it, and the public values bound to them.
    pub fn set(&mut self, cell: CellRef, value: i64) {
        let class = &self.classes[cell.column * self.spec.rows + cell.row];
        let cells: Vec<CellRef> = if class.is_empty() { vec![cell] } else { class.clone() };
        for c in cells {
            self.witness.advice[c.column][c.row] = value;
            for &i in self.instance_rows.get(&c).into_iter().flatten() {
                self.witness.instance[i] = value;
            }
        }
    }

    /// Re-derives the limbs and the output of the rescale on `row` from its accumulator, with the
    /// row's fixed coefficients, as an honest prover would (the output is set with [`Self::set`]).
    /// Limbs are taken modulo their widths, so an accumulator outside the range yields limbs
    /// that satisfy the lookups but not the accumulator relation.
    pub fn redo_rescale(&mut self, row: usize) {
        let l = self.spec.layout;
        let fixed = |c: usize| self.spec.fixed[c][row];
        let relu = fixed(l.fixed(crate::layout::NamedFixed::QRescaleRelu)) == 1;
        assert!(relu || fixed(l.fixed(crate::layout::NamedFixed::QRescale)) == 1, "row {row} has no rescale");
        let v = self.witness.advice[l.acc()][row] + fixed(l.fixed(crate::layout::NamedFixed::RescaleC));
        let mut y = -fixed(l.fixed(crate::layout::NamedFixed::RescaleY0));
        let mut sign = 0;
        for i in 0..l.limbs {
            let (coef, ycoef, width) = (fixed(l.coef(i)), fixed(l.ycoef(i)), fixed(l.tag(i)));
            if width == 0 {
                continue;
            }
            let limb = v.div_euclid(coef).rem_euclid(1 << width);
            self.witness.advice[l.limb(i)][row] = limb;
            y += ycoef * limb;
            sign = limb;
        }
        let out = if relu { sign * y } else { y };
        self.set(CellRef { column: l.out(), row }, out);
    }

    /// Asserts that MockProver rejects the forgery and that the failing relations are exactly
    /// `expected`, each named as [`failure_detail`] names it (`gate: constraint`, `range lookup`,
    /// `function lookup` or `permutation`).
    #[track_caller]
    pub fn assert_only(&self, expected: &[&str]) {
        let failures = mock(&self.spec, &self.witness).expect_err("the forged witness must be rejected");
        let got = sorted(failures.iter().map(|f| failure_detail(&self.spec, f)));
        assert_eq!(got, sorted(expected.iter().map(|s| s.to_string())), "failures: {failures:?}");
        assert_eq!(fast_check(&self.spec, &self.witness, true), got, "the fast check disagrees with MockProver");
    }

    /// Asserts that MockProver accepts the witness.
    #[track_caller]
    pub fn assert_accepted(&self) {
        if let Err(f) = mock(&self.spec, &self.witness) {
            panic!("the witness must be accepted: {f:?}");
        }
        assert_eq!(fast_check(&self.spec, &self.witness, true), Vec::<String>::new(), "the fast check rejects it");
    }
}
