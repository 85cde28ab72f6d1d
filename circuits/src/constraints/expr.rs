//! Polynomial expressions over column queries, with the same shape as halo2's `Expression`
//! (`a - b` is `a + (-b)`), so that converting one into the other gives the identical tree.

use std::ops::{Add, Mul, Neg, Sub};

use ff::PrimeField;

use crate::circuit::to_field;

/// A column of the model circuit, by its index in [`crate::layout::Layout`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// Advice column.
    Advice(usize),
    /// Fixed column.
    Fixed(usize),
}

/// A column read at a row offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    /// The column.
    pub column: Column,
    /// Row offset from the row the constraint is evaluated on.
    pub rotation: i32,
}

impl Query {
    /// The value the query reads when a constraint is evaluated on `row` of columns of `n` rows
    /// each (rotations wrap around, as on halo2's domain).
    pub fn read<F: Copy>(
        self,
        advice: &[impl std::ops::Deref<Target = [F]>],
        fixed: &[impl std::ops::Deref<Target = [F]>],
        row: usize,
    ) -> F {
        let column: &[F] = match self.column {
            Column::Advice(c) => &advice[c],
            Column::Fixed(c) => &fixed[c],
        };
        column[(row as i64 + i64::from(self.rotation)).rem_euclid(column.len() as i64) as usize]
    }
}

/// A polynomial expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// An integer constant (a field element for negative values: `p - |c|`).
    Constant(i64),
    /// A column query.
    Query(Query),
    /// `-a`.
    Negated(Box<Expr>),
    /// `a + b`.
    Sum(Box<Expr>, Box<Expr>),
    /// `a · b`.
    Product(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Evaluates the expression, reading each query through `value`.
    pub fn evaluate<F: PrimeField>(&self, value: &impl Fn(Query) -> F) -> F {
        match self {
            Expr::Constant(c) => to_field(*c),
            Expr::Query(q) => value(*q),
            Expr::Negated(a) => -a.evaluate(value),
            Expr::Sum(a, b) => a.evaluate(value) + b.evaluate(value),
            Expr::Product(a, b) => a.evaluate(value) * b.evaluate(value),
        }
    }

    /// The same expression in halo2's form, given the halo2 expression of each query.
    pub fn to_halo2<F: PrimeField>(
        &self,
        query: &impl Fn(Query) -> halo2_proofs::plonk::Expression<F>,
    ) -> halo2_proofs::plonk::Expression<F> {
        use halo2_proofs::plonk::Expression as E;
        match self {
            Expr::Constant(c) => E::Constant(to_field(*c)),
            Expr::Query(q) => query(*q),
            Expr::Negated(a) => E::Negated(Box::new(a.to_halo2(query))),
            Expr::Sum(a, b) => E::Sum(Box::new(a.to_halo2(query)), Box::new(b.to_halo2(query))),
            Expr::Product(a, b) => E::Product(Box::new(a.to_halo2(query)), Box::new(b.to_halo2(query))),
        }
    }

    /// The polynomial degree.
    pub fn degree(&self) -> usize {
        match self {
            Expr::Constant(_) => 0,
            Expr::Query(_) => 1,
            Expr::Negated(a) => a.degree(),
            Expr::Sum(a, b) => a.degree().max(b.degree()),
            Expr::Product(a, b) => a.degree() + b.degree(),
        }
    }
}

impl Add for Expr {
    type Output = Expr;
    fn add(self, rhs: Expr) -> Expr {
        Expr::Sum(Box::new(self), Box::new(rhs))
    }
}

impl Sub for Expr {
    type Output = Expr;
    fn sub(self, rhs: Expr) -> Expr {
        Expr::Sum(Box::new(self), Box::new(-rhs))
    }
}

impl Mul for Expr {
    type Output = Expr;
    fn mul(self, rhs: Expr) -> Expr {
        Expr::Product(Box::new(self), Box::new(rhs))
    }
}

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Negated(Box::new(self))
    }
}
