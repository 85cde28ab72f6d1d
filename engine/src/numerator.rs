//! The quotient's numerator as one program (stage 4): a stack machine whose instructions read
//! column values on the extended coset domain. The prover builds it from the circuit's
//! constraint data (the gates are written once, in the chips; [`ProgramBuilder::expression`])
//! followed by the permutation's and the lookups' constraints. A backend runs it at every point
//! of the extended domain ([`crate::backend::Backend::evaluate_numerator`]): the CPU with
//! [`evaluate`], the GPU with its own interpreter of the same instructions.
//!
//! The value at each point is `Σ_i y^(m-1-i) · c_i` over the `m` constraints in halo2's order
//! (Horner's rule, as halo2 folds every constraint into the quotient).

use ff::Field;
use halo2_proofs::pasta::Fp;
use zkinfer_circuits::constraints::{Column, Expr};

/// A column the program reads: its position in the program's column list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ColumnSlot(pub u32);

/// A constant of the program: its position in the program's constant list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConstantIndex(pub u32);

/// What a program column holds, on the extended coset domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// An advice column.
    Advice(usize),
    /// A fixed column.
    Fixed(usize),
    /// The instance column.
    Instance,
    /// A permutation polynomial (one per permutation column).
    Sigma(usize),
    /// The permutation's grand product of a chunk of columns.
    PermutationProduct(usize),
    /// A lookup's permuted input.
    LookupPermutedInput(usize),
    /// A lookup's permuted table.
    LookupPermutedTable(usize),
    /// A lookup's grand product.
    LookupProduct(usize),
    /// 1 on the first row (`l_0`).
    FirstRow,
    /// 1 on the last usable row (`l_last`).
    LastRow,
    /// 1 on the blinding rows (`l_blind`).
    BlindingRows,
    /// The point itself (`X`: the coset's points).
    CosetPoint,
}

impl From<Column> for Source {
    fn from(c: Column) -> Self {
        match c {
            Column::Advice(i) => Source::Advice(i),
            Column::Fixed(i) => Source::Fixed(i),
        }
    }
}

/// One instruction of a [`NumeratorProgram`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instruction {
    /// Pushes the column's value `rotation` rows from the current one.
    Query {
        /// The column.
        slot: ColumnSlot,
        /// Row offset (a row is `step` points of the extended domain).
        rotation: i32,
    },
    /// Pushes a constant.
    Constant(ConstantIndex),
    /// Replaces the top value by its negation.
    Negate,
    /// Replaces the two top values by their sum.
    Add,
    /// Replaces the two top values by their product.
    Multiply,
    /// Pops a constraint's value `c` into the result: `h ← h · y + c`.
    Constraint,
}

/// The quotient's numerator as one program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NumeratorProgram {
    /// The columns the program reads, by slot.
    pub columns: Vec<Source>,
    /// The constants, by index.
    pub constants: Vec<Fp>,
    /// The instructions, constraint after constraint.
    pub code: Vec<Instruction>,
    /// The deepest the stack gets.
    pub max_stack: usize,
    /// How many constraints the program folds.
    pub constraints: usize,
}

impl NumeratorProgram {
    /// The smallest and the largest rotation the program reads (0 and 0 without queries).
    pub fn rotation_range(&self) -> (i32, i32) {
        self.code.iter().fold((0, 0), |(lo, hi), i| match i {
            Instruction::Query { rotation, .. } => (lo.min(*rotation), hi.max(*rotation)),
            _ => (lo, hi),
        })
    }
}

/// Writes a [`NumeratorProgram`] in postfix order: each method pushes a value or combines the
/// values on top of the stack; [`ProgramBuilder::constraint`] folds a finished constraint.
#[derive(Debug, Default)]
pub struct ProgramBuilder {
    program: NumeratorProgram,
    depth: usize,
}

impl ProgramBuilder {
    /// Appends `i`, which changes the stack's depth by `change`.
    fn emit(&mut self, i: Instruction, change: isize) -> &mut Self {
        self.program.code.push(i);
        self.depth = self.depth.saturating_add_signed(change);
        self.program.max_stack = self.program.max_stack.max(self.depth);
        self
    }

    /// Pushes `source`'s value `rotation` rows away.
    pub fn query(&mut self, source: Source, rotation: i32) -> &mut Self {
        let columns = &mut self.program.columns;
        let slot = columns.iter().position(|&c| c == source).unwrap_or_else(|| {
            columns.push(source);
            columns.len() - 1
        });
        self.emit(Instruction::Query { slot: ColumnSlot(slot as u32), rotation }, 1)
    }

    /// Pushes `value`.
    pub fn constant(&mut self, value: Fp) -> &mut Self {
        let constants = &mut self.program.constants;
        let index = constants.iter().position(|&k| k == value).unwrap_or_else(|| {
            constants.push(value);
            constants.len() - 1
        });
        self.emit(Instruction::Constant(ConstantIndex(index as u32)), 1)
    }

    /// `a` on top becomes `-a`.
    pub fn negate(&mut self) -> &mut Self {
        self.emit(Instruction::Negate, 0)
    }

    /// `a, b` on top become `a + b`.
    pub fn add(&mut self) -> &mut Self {
        self.emit(Instruction::Add, -1)
    }

    /// `a, b` on top become `a - b`.
    pub fn subtract(&mut self) -> &mut Self {
        self.negate().add()
    }

    /// `a, b` on top become `a · b`.
    pub fn multiply(&mut self) -> &mut Self {
        self.emit(Instruction::Multiply, -1)
    }

    /// `a` on top becomes `1 - a`.
    pub fn one_minus(&mut self) -> &mut Self {
        self.negate().constant(Fp::ONE).add()
    }

    /// Pushes the value of a circuit expression.
    pub fn expression(&mut self, e: &Expr) -> &mut Self {
        match e {
            Expr::Constant(c) => self.constant(crate::field(*c)),
            Expr::Query(q) => self.query(q.column.into(), q.rotation),
            Expr::Negated(a) => self.expression(a).negate(),
            Expr::Sum(a, b) => self.expression(a).expression(b).add(),
            Expr::Product(a, b) => self.expression(a).expression(b).multiply(),
        }
    }

    /// Folds the value on top into the result as the next constraint.
    pub fn constraint(&mut self) -> &mut Self {
        self.program.constraints += 1;
        self.emit(Instruction::Constraint, -1)
    }

    /// The program written so far.
    pub fn finish(self) -> NumeratorProgram {
        self.program
    }
}

/// An instruction with its query resolved to a column and an offset in extended points.
#[derive(Clone, Copy)]
pub(crate) enum Bound {
    Query(usize, usize),
    Constant(Fp),
    Negate,
    Add,
    Multiply,
    Constraint,
}

/// A step of the block evaluator ([`evaluate`]): an instruction, or (see [`fuse`]) a push fused
/// with the operation that consumes it.
#[derive(Clone, Copy)]
pub(crate) enum Step {
    /// One instruction as it is.
    Plain(Bound),
    /// `Query` then `Add`: the column's values added to the top in place.
    AddQuery(usize, usize),
    /// `Query` then `Multiply`.
    MultiplyQuery(usize, usize),
    /// `Constant` then `Add`.
    AddConstant(Fp),
    /// `Constant` then `Multiply`.
    MultiplyConstant(Fp),
    /// `Negate` then `Add`: the top subtracted from the value below it.
    Subtract,
}

/// Fuses each push (a query, a constant) or negation with the addition or multiplication that
/// consumes it at once, so the block evaluator updates the top of its stack in place instead of
/// copying the operand into a slot first. The values are the same: both operations commute.
pub(crate) fn fuse(code: &[Bound]) -> Vec<Step> {
    let mut fused = Vec::with_capacity(code.len());
    let mut i = 0;
    while i < code.len() {
        let next = code.get(i + 1).copied();
        let pair = match (code[i], next) {
            (Bound::Query(c, o), Some(Bound::Add)) => Some(Step::AddQuery(c, o)),
            (Bound::Query(c, o), Some(Bound::Multiply)) => Some(Step::MultiplyQuery(c, o)),
            (Bound::Constant(k), Some(Bound::Add)) => Some(Step::AddConstant(k)),
            (Bound::Constant(k), Some(Bound::Multiply)) => Some(Step::MultiplyConstant(k)),
            (Bound::Negate, Some(Bound::Add)) => Some(Step::Subtract),
            _ => None,
        };
        match pair {
            Some(f) => {
                fused.push(f);
                i += 2;
            }
            None => {
                fused.push(Step::Plain(code[i]));
                i += 1;
            }
        }
    }
    fused
}

fn bind(program: &NumeratorProgram, ext: usize, step: usize) -> Vec<Bound> {
    program
        .code
        .iter()
        .map(|i| match *i {
            Instruction::Query { slot, rotation } => {
                let offset = (i64::from(rotation) * step as i64).rem_euclid(ext as i64) as usize;
                Bound::Query(slot.0 as usize, offset)
            }
            Instruction::Constant(c) => Bound::Constant(program.constants[c.0 as usize]),
            Instruction::Negate => Bound::Negate,
            Instruction::Add => Bound::Add,
            Instruction::Multiply => Bound::Multiply,
            Instruction::Constraint => Bound::Constraint,
        })
        .collect()
}

fn run(code: &[Bound], columns: &[&[Fp]], y: Fp, j: usize, ext: usize, stack: &mut Vec<Fp>) -> Fp {
    // The builder emits balanced expressions, so every pop below has a value; a malformed
    // program reads zeros rather than panicking.
    let pop = |stack: &mut Vec<Fp>| stack.pop().unwrap_or(Fp::ZERO);
    let mut h = Fp::ZERO;
    stack.clear();
    for instruction in code {
        match *instruction {
            Bound::Query(column, offset) => {
                let i = j + offset;
                stack.push(columns[column][if i >= ext { i - ext } else { i }]);
            }
            Bound::Constant(c) => stack.push(c),
            Bound::Negate => {
                let a = pop(stack);
                stack.push(-a);
            }
            Bound::Add => {
                let (b, a) = (pop(stack), pop(stack));
                stack.push(a + b);
            }
            Bound::Multiply => {
                let (b, a) = (pop(stack), pop(stack));
                stack.push(a * b);
            }
            Bound::Constraint => h = h * y + pop(stack),
        }
    }
    h
}

/// The program's value at every point `j` of the extended domain's `points` (`columns[s]`
/// holds slot `s`'s values there; a row is `step` points), one point after another.
///
/// # Panics
/// If `columns` is not one column per slot, or a column is shorter than `points`.
pub fn evaluate_naive(program: &NumeratorProgram, columns: &[&[Fp]], points: usize, y: Fp, step: usize) -> Vec<Fp> {
    assert_eq!(columns.len(), program.columns.len(), "one column per program slot");
    assert!(columns.iter().all(|c| c.len() >= points), "a value per point in each column");
    let ext = points;
    let code = bind(program, ext.max(1), step);
    let mut stack = Vec::with_capacity(program.max_stack);
    (0..ext).map(|j| run(&code, columns, y, j, ext, &mut stack)).collect()
}

/// Points [`evaluate`] runs each instruction over at once.
const BLOCK: usize = 64;

/// `len` values of `column` from index `first` on, wrapping around at `ext` (the domain's
/// points): the part before `ext`, then the part from the start.
fn wrapped(column: &[Fp], first: usize, len: usize, ext: usize) -> (&[Fp], &[Fp]) {
    let direct = len.min(ext - first);
    (&column[first..first + direct], &column[..len - direct])
}

/// The program over the block of points starting at `start` (`out.len()` of them, at most
/// [`BLOCK`]): each instruction over the whole block, the stack a stack of blocks.
fn run_block(
    code: &[Step],
    columns: &[&[Fp]],
    y: Fp,
    start: usize,
    ext: usize,
    stack: &mut [[Fp; BLOCK]],
    out: &mut [Fp],
) {
    let len = out.len();
    let mut top = 0usize;
    out.iter_mut().for_each(|h| *h = Fp::ZERO);
    for instruction in code {
        match *instruction {
            Step::Plain(Bound::Query(column, offset)) => {
                let (before_end, after_end) = wrapped(columns[column], (start + offset) % ext, len, ext);
                let slot = &mut stack[top];
                slot[..before_end.len()].copy_from_slice(before_end);
                slot[before_end.len()..len].copy_from_slice(after_end);
                top += 1;
            }
            Step::Plain(Bound::Constant(c)) => {
                stack[top][..len].iter_mut().for_each(|v| *v = c);
                top += 1;
            }
            Step::Plain(Bound::Negate) => stack[top - 1][..len].iter_mut().for_each(|v| *v = -*v),
            Step::Plain(Bound::Add | Bound::Multiply) => {
                let (lower, upper) = stack.split_at_mut(top - 1);
                let (a, b) = (&mut lower[top - 2], &upper[0]);
                if matches!(instruction, Step::Plain(Bound::Add)) {
                    a[..len].iter_mut().zip(&b[..len]).for_each(|(a, b)| *a += b);
                } else {
                    a[..len].iter_mut().zip(&b[..len]).for_each(|(a, b)| *a *= b);
                }
                top -= 1;
            }
            Step::Plain(Bound::Constraint) => {
                top -= 1;
                out.iter_mut().zip(&stack[top][..len]).for_each(|(h, c)| *h = *h * y + c);
            }
            Step::AddQuery(column, offset) | Step::MultiplyQuery(column, offset) => {
                let (before_end, after_end) = wrapped(columns[column], (start + offset) % ext, len, ext);
                let values = before_end.iter().chain(after_end);
                let a = &mut stack[top - 1][..len];
                if matches!(instruction, Step::AddQuery(..)) {
                    a.iter_mut().zip(values).for_each(|(a, b)| *a += b);
                } else {
                    a.iter_mut().zip(values).for_each(|(a, b)| *a *= b);
                }
            }
            Step::AddConstant(c) => stack[top - 1][..len].iter_mut().for_each(|v| *v += c),
            Step::MultiplyConstant(c) => stack[top - 1][..len].iter_mut().for_each(|v| *v *= c),
            Step::Subtract => {
                let (lower, upper) = stack.split_at_mut(top - 1);
                lower[top - 2][..len].iter_mut().zip(&upper[0][..len]).for_each(|(a, b)| *a -= b);
                top -= 1;
            }
        }
    }
}

/// The same as [`evaluate_naive`], an instruction over a block of points at a time, on as
/// many threads as the machine has (on eight-point vectors where [`crate::avx512`] runs).
///
/// # Panics
/// If `columns` is not one column per slot, a column is shorter than `points`, or the program
/// is not balanced (the builder's are).
pub fn evaluate(program: &NumeratorProgram, columns: &[&[Fp]], points: usize, y: Fp, step: usize) -> Vec<Fp> {
    assert_eq!(columns.len(), program.columns.len(), "one column per program slot");
    assert!(columns.iter().all(|c| c.len() >= points), "a value per point in each column");
    let ext = points;
    let code = fuse(&bind(program, ext.max(1), step));
    #[cfg(target_arch = "x86_64")]
    if let Some(result) = crate::avx512::evaluate_numerator(&code, columns, ext, y, program.max_stack) {
        return result;
    }
    let mut result = vec![Fp::ZERO; ext];
    let threads = std::thread::available_parallelism().map_or(1, usize::from).max(1);
    let chunk = ext.div_ceil(threads).next_multiple_of(BLOCK).max(BLOCK);
    let parts: Vec<(usize, &mut [Fp])> =
        result.chunks_mut(chunk).enumerate().map(|(i, part)| (i * chunk, part)).collect();
    std::thread::scope(|s| {
        for (start, part) in parts {
            let code = &code;
            s.spawn(move || {
                let mut stack = vec![[Fp::ZERO; BLOCK]; program.max_stack];
                for (b, block) in part.chunks_mut(BLOCK).enumerate() {
                    run_block(code, columns, y, start + b * BLOCK, ext, &mut stack, block);
                }
            });
        }
    });
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rand::SeedableRng;
    use zkinfer_circuits::constraints::Query;

    use super::*;

    fn q(column: Column, rotation: i32) -> Box<Expr> {
        Box::new(Expr::Query(Query { column, rotation }))
    }

    /// A program of two constraints equals the constraints evaluated directly and folded by y.
    #[test]
    fn the_program_folds_its_constraints_by_y() {
        let (a, f) = (Column::Advice(0), Column::Fixed(1));
        // c0 = f · (a - a[+1]) ; c1 = -(a[-1] · a) + 7 - 3 ; c2 = (a + f[+1]) · 5 (between them,
        // every fused instruction of the block evaluator).
        let c0 = Expr::Product(q(f, 0), Box::new(Expr::Sum(q(a, 0), Box::new(Expr::Negated(q(a, 1))))));
        let c1 = Expr::Sum(
            Box::new(Expr::Sum(
                Box::new(Expr::Negated(Box::new(Expr::Product(q(a, -1), q(a, 0))))),
                Box::new(Expr::Constant(7)),
            )),
            Box::new(Expr::Constant(-3)),
        );
        let c2 = Expr::Product(Box::new(Expr::Sum(q(a, 0), q(f, 1))), Box::new(Expr::Constant(5)));
        let mut builder = ProgramBuilder::default();
        for c in [&c0, &c1, &c2] {
            builder.expression(c).constraint();
        }
        let program = builder.finish();
        assert_eq!(program.columns, vec![Source::from(f), Source::from(a)]);
        assert_eq!(program.constraints, 3);
        assert_eq!(program.rotation_range(), (-1, 1));
        assert_eq!(program.max_stack, 3);
        let fused = fuse(&bind(&program, 16, 4));
        for kind in [
            |b: &Step| matches!(b, Step::AddQuery(..)),
            |b: &Step| matches!(b, Step::MultiplyQuery(..)),
            |b: &Step| matches!(b, Step::AddConstant(..)),
            |b: &Step| matches!(b, Step::MultiplyConstant(..)),
            |b: &Step| matches!(b, Step::Subtract),
        ] {
            assert!(fused.iter().any(kind), "a fused instruction of each kind");
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        // Fewer points than a block; blocks of 64 and a shorter last one, rotations around the
        // end.
        // 256 points: the vector evaluator's size (where the CPU has it).
        for (ext, step) in [(16usize, 4usize), (200, 4), (256, 4)] {
            let fixed: Vec<Fp> = (0..ext).map(|_| Fp::random(&mut rng)).collect();
            let advice: Vec<Fp> = (0..ext).map(|_| Fp::random(&mut rng)).collect();
            let y = Fp::random(&mut rng);
            let columns: [&[Fp]; 2] = [&fixed, &advice];
            let got = evaluate(&program, &columns, ext, y, step);
            assert_eq!(got, evaluate_naive(&program, &columns, ext, y, step));
            for j in 0..ext {
                let value = |query: Query| {
                    let column = if query.column == f { &fixed } else { &advice };
                    column[(j as i64 + i64::from(query.rotation) * step as i64).rem_euclid(ext as i64) as usize]
                };
                let expected = (c0.evaluate(&value) * y + c1.evaluate(&value)) * y + c2.evaluate(&value);
                assert_eq!(got[j], expected, "{ext} points: point {j}");
            }
        }
    }
}
