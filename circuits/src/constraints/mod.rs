//! The constraint system of a model circuit as data: every gate (polynomial identities over
//! column queries at rotations) and every lookup (input expressions against table columns),
//! described once by the chips ([`ConstraintData::new`]).
//!
//! Everything that needs the constraints reads them from here: halo2's `configure`
//! ([`crate::chips::ModelConfig::configure`] turns each [`Gate`] into `create_gate` and each
//! [`Lookup`] into `lookup`), and the fast witness check ([`check`]), which evaluates the same
//! expressions on a witness and names the relation and row that fail. A proving engine's
//! evaluator reads the same data.
//!
//! Query order matters: halo2 numbers queries in the order they are first made, and that order
//! is part of the verifying key and so of the circuit identity. A [`GateBuilder`] records its
//! queries in the order the chip makes them, and `configure` makes them in that order before it
//! builds the expressions, so the data gives the same constraint system as the chips' former
//! direct calls (the committed conformance corpus pins the identity).

pub mod check;
mod expr;
pub mod key;

pub use expr::{Column, Expr, Query};

use crate::layout::{Layout, NamedFixed};

/// A lookup table column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableColumn {
    /// The range table's width tag.
    RangeTag,
    /// The range table's value.
    RangeValue,
    /// The function table's tag (which function).
    FunctionTag,
    /// The function table's input.
    FunctionInput,
    /// The function table's output.
    FunctionOutput,
}

/// A gate: constraints that must be zero on every row.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    /// Gate name (as halo2 reports it).
    pub name: &'static str,
    /// The queries of the gate, in the order they were first made.
    pub queries: Vec<Query>,
    /// Named constraints.
    pub constraints: Vec<(&'static str, Expr)>,
}

/// A lookup: on every row, the tuple of input expressions is a row of the table columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// What the lookup checks (for reports; halo2 numbers lookups).
    pub name: &'static str,
    /// The queries of the inputs, in the order they were first made.
    pub queries: Vec<Query>,
    /// Input expression and the table column it must match.
    pub inputs: Vec<(Expr, TableColumn)>,
}

/// A gate or a lookup.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// A gate.
    Gate(Gate),
    /// A lookup.
    Lookup(Lookup),
}

/// Every gate and lookup of a model circuit with a given layout, in configuration order.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintData {
    /// The layout the columns follow.
    pub layout: Layout,
    /// Gates and lookups in the order halo2 creates them (it numbers the queries of both in
    /// one sequence, so the interleaving is part of the circuit identity).
    pub parts: Vec<Part>,
}

impl ConstraintData {
    /// The chips' gates and lookups for `layout` (order: see [`crate::chips`]).
    pub fn new(layout: Layout) -> Self {
        use crate::chips::{compare, division, function, linear, product, range};
        let gates = |g: Vec<Gate>| g.into_iter().map(Part::Gate);
        let lookups = |l: Vec<Lookup>| l.into_iter().map(Part::Lookup);
        let parts = gates(linear::gates(layout))
            .chain(gates(range::gates(layout)))
            .chain(lookups(range::lookups(layout)))
            .chain(gates(compare::gates(layout)))
            .chain(gates(division::gates(layout)))
            .chain(gates(product::gates(layout)))
            .chain(lookups(function::lookups(layout)))
            .collect();
        Self { layout, parts }
    }

    /// The gates, in order.
    pub fn gates(&self) -> impl Iterator<Item = &Gate> {
        self.parts.iter().filter_map(|p| match p {
            Part::Gate(g) => Some(g),
            Part::Lookup(_) => None,
        })
    }

    /// The lookups, in order (halo2's lookup indices).
    pub fn lookups(&self) -> impl Iterator<Item = &Lookup> {
        self.parts.iter().filter_map(|p| match p {
            Part::Lookup(l) => Some(l),
            Part::Gate(_) => None,
        })
    }
}

/// Builds one gate or lookup, recording queries in the order they are made. The named
/// shorthands follow the shared columns of [`Layout`].
#[derive(Debug)]
pub struct GateBuilder {
    layout: Layout,
    queries: Vec<Query>,
}

impl GateBuilder {
    /// A builder for the columns of `layout`.
    pub fn new(layout: Layout) -> Self {
        Self { layout, queries: Vec::new() }
    }

    fn query(&mut self, column: Column, rotation: i32) -> Expr {
        let q = Query { column, rotation };
        if !self.queries.contains(&q) {
            self.queries.push(q);
        }
        Expr::Query(q)
    }

    /// Advice column `column` at `rotation`.
    pub fn advice(&mut self, column: usize, rotation: i32) -> Expr {
        self.query(Column::Advice(column), rotation)
    }
    /// Lane `i` on the current row.
    pub fn lane(&mut self, i: usize) -> Expr {
        self.lane_at(i, 0)
    }
    /// Lane `i` at `rotation`.
    pub fn lane_at(&mut self, i: usize, rotation: i32) -> Expr {
        self.advice(self.layout.lane(i), rotation)
    }
    /// The accumulator at `rotation`.
    pub fn acc(&mut self, rotation: i32) -> Expr {
        self.advice(self.layout.acc(), rotation)
    }
    /// The rescaled output on the current row.
    pub fn out(&mut self) -> Expr {
        self.advice(self.layout.out(), 0)
    }
    /// Limb column `i` on the current row.
    pub fn limb(&mut self, i: usize) -> Expr {
        self.advice(self.layout.limb(i), 0)
    }
    /// Fixed column `column` on the current row (halo2 0.4.1 queries fixed columns only there).
    pub fn fixed(&mut self, column: usize) -> Expr {
        self.query(Column::Fixed(column), 0)
    }
    /// A named fixed column on the current row.
    pub fn named(&mut self, f: NamedFixed) -> Expr {
        let c = self.layout.fixed(f);
        self.fixed(c)
    }

    /// The gate with these constraints.
    pub fn gate(self, name: &'static str, constraints: Vec<(&'static str, Expr)>) -> Gate {
        Gate { name, queries: self.queries, constraints }
    }

    /// The lookup with these inputs.
    pub fn lookup(self, name: &'static str, inputs: Vec<(Expr, TableColumn)>) -> Lookup {
        Lookup { name, queries: self.queries, inputs }
    }
}
