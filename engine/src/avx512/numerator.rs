//! The numerator program ([`crate::numerator`]) over blocks of eight-point vectors: the scalar
//! block evaluator's steps, with the values in Montgomery form (radix `2^260`, so that the
//! product of two values is [`field::mul`]). Each block first converts the values of every
//! distinct query (a column at a rotation) once, from their words ([`super::words`]: a shift
//! and a reduction each, [`field::scale_up`]), then runs the steps over them (the columns stay
//! pasta_curves' elements: converting every column whole first would take longer than the
//! evaluation).

use std::arch::x86_64::_mm512_setzero_si512;

use ff::Field;
use halo2_proofs::pasta::Fp;
use rayon::prelude::*;

use super::field::{self, Consts, LANES, LIMBS, Vector};
use super::words::{self, Words};
use crate::numerator::{Bound, Step};

/// Vectors per block: each stack slot holds a block.
const BLOCK_VECTORS: usize = 4;

/// Points per block.
pub const BLOCK: usize = BLOCK_VECTORS * LANES;

/// A block of values.
type Block = [Vector; BLOCK_VECTORS];

/// A step with its query (if any) as an index into the block's converted queries and its
/// constant (if any) as an index into the vector constants.
#[derive(Clone, Copy)]
enum VectorStep {
    Query(usize),
    Constant(usize),
    Negate,
    Add,
    Multiply,
    Constraint,
    AddQuery(usize),
    MultiplyQuery(usize),
    AddConstant(usize),
    MultiplyConstant(usize),
    Subtract,
}

/// What every block reads.
struct Program<'a> {
    code: Vec<VectorStep>,
    /// The distinct queries: (column, offset in points).
    queries: Vec<(usize, usize)>,
    constants: Vec<Vector>,
    columns: Vec<&'a [Words]>,
    ext: usize,
    y: Vector,
    zero: Vector,
}

/// The program's value at every point (see [`crate::numerator::evaluate`]): `ext` points, a
/// multiple of [`BLOCK`].
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn evaluate(code: &[Step], columns: &[&[Fp]], ext: usize, y: Fp, max_stack: usize) -> Vec<Fp> {
    let mut constants: Vec<Vector> = Vec::new();
    let mut constant = |k: Fp| {
        constants.push(field::splat(field::constant(k)));
        constants.len() - 1
    };
    let mut queries: Vec<(usize, usize)> = Vec::new();
    let mut query = |column: usize, offset: usize| {
        queries.iter().position(|&q| q == (column, offset)).unwrap_or_else(|| {
            queries.push((column, offset));
            queries.len() - 1
        })
    };
    let mut vector_code = Vec::with_capacity(code.len());
    for step in code {
        vector_code.push(match *step {
            Step::Plain(Bound::Query(column, offset)) => VectorStep::Query(query(column, offset)),
            Step::Plain(Bound::Constant(k)) => VectorStep::Constant(constant(k)),
            Step::Plain(Bound::Negate) => VectorStep::Negate,
            Step::Plain(Bound::Add) => VectorStep::Add,
            Step::Plain(Bound::Multiply) => VectorStep::Multiply,
            Step::Plain(Bound::Constraint) => VectorStep::Constraint,
            Step::AddQuery(column, offset) => VectorStep::AddQuery(query(column, offset)),
            Step::MultiplyQuery(column, offset) => VectorStep::MultiplyQuery(query(column, offset)),
            Step::AddConstant(k) => VectorStep::AddConstant(constant(k)),
            Step::MultiplyConstant(k) => VectorStep::MultiplyConstant(constant(k)),
            Step::Subtract => VectorStep::Subtract,
        });
    }
    let zero = [_mm512_setzero_si512(); LIMBS];
    let program = Program {
        code: vector_code,
        queries,
        constants,
        columns: columns.iter().map(|c| words::as_words(c)).collect(),
        ext,
        y: field::splat(field::constant(y)),
        zero,
    };
    let mut result = vec![Fp::ZERO; ext];
    words::as_words_mut(&mut result).par_chunks_mut(BLOCK).enumerate().for_each_init(
        || (vec![[zero; BLOCK_VECTORS]; max_stack.max(1)], vec![[zero; BLOCK_VECTORS]; program.queries.len()]),
        |(stack, values), (b, out)| {
            let c = Consts::new::<Fp>();
            let start = b * BLOCK;
            for (value, &(column, offset)) in values.iter_mut().zip(&program.queries) {
                *value = load(&c, &program, column, (start + offset) % ext);
            }
            let h = run_block(&c, &program, values, stack);
            for (v, out) in h.iter().zip(out.chunks_mut(LANES)) {
                // `scale_down` gives canonical values, as the words must be.
                words::store(&field::scale_down(&c, v), out);
            }
        },
    );
    result
}

/// A block of `column`'s values from point `first` on (wrapping around at `ext`), in
/// Montgomery form.
#[target_feature(enable = "avx512f,avx512ifma")]
fn load(c: &Consts, program: &Program, column: usize, first: usize) -> Block {
    let column = program.columns[column];
    let mut block = [program.zero; BLOCK_VECTORS];
    for (v, vector) in block.iter_mut().enumerate() {
        let start = first + v * LANES;
        if start + LANES <= program.ext {
            *vector = field::scale_up(c, &words::load(&column[start..start + LANES]));
            continue;
        }
        // The eight points wrap around the domain: copy their words together first.
        let mut wrapped = [[0u64; 4]; LANES];
        for (l, words) in wrapped.iter_mut().enumerate() {
            let mut i = start + l;
            if i >= program.ext {
                i -= program.ext;
            }
            *words = column[i];
        }
        *vector = field::scale_up(c, &words::load(&wrapped));
    }
    block
}

/// The program over a block of points whose queries' values are `values`; returns `h` there
/// (Montgomery form).
#[target_feature(enable = "avx512f,avx512ifma")]
fn run_block(c: &Consts, program: &Program, values: &[Block], stack: &mut [Block]) -> Block {
    let mut h: Block = [program.zero; BLOCK_VECTORS];
    let mut top = 0usize;
    for step in &program.code {
        match *step {
            VectorStep::Query(q) => {
                stack[top] = values[q];
                top += 1;
            }
            VectorStep::Constant(k) => {
                stack[top] = [program.constants[k]; BLOCK_VECTORS];
                top += 1;
            }
            VectorStep::Negate => {
                for a in stack[top - 1].iter_mut() {
                    *a = field::sub(c, &program.zero, a);
                }
            }
            VectorStep::Add | VectorStep::Multiply | VectorStep::Subtract => {
                let (lower, upper) = stack.split_at_mut(top - 1);
                let (a, b) = (&mut lower[top - 2], &upper[0]);
                match step {
                    VectorStep::Add => {
                        for v in 0..BLOCK_VECTORS {
                            a[v] = field::add(c, &a[v], &b[v]);
                        }
                    }
                    VectorStep::Multiply => {
                        for v in 0..BLOCK_VECTORS {
                            a[v] = field::mul(c, &a[v], &b[v]);
                        }
                    }
                    _ => {
                        for v in 0..BLOCK_VECTORS {
                            a[v] = field::sub(c, &a[v], &b[v]);
                        }
                    }
                }
                top -= 1;
            }
            VectorStep::Constraint => {
                top -= 1;
                let value = &stack[top];
                for v in 0..BLOCK_VECTORS {
                    h[v] = field::add(c, &field::mul(c, &h[v], &program.y), &value[v]);
                }
            }
            VectorStep::AddQuery(q) => {
                let a = &mut stack[top - 1];
                for v in 0..BLOCK_VECTORS {
                    a[v] = field::add(c, &a[v], &values[q][v]);
                }
            }
            VectorStep::MultiplyQuery(q) => {
                let a = &mut stack[top - 1];
                for v in 0..BLOCK_VECTORS {
                    a[v] = field::mul(c, &a[v], &values[q][v]);
                }
            }
            VectorStep::AddConstant(k) => {
                for a in stack[top - 1].iter_mut() {
                    *a = field::add(c, a, &program.constants[k]);
                }
            }
            VectorStep::MultiplyConstant(k) => {
                for a in stack[top - 1].iter_mut() {
                    *a = field::mul(c, a, &program.constants[k]);
                }
            }
        }
    }
    h
}
