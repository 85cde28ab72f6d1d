//! The quotient's numerator on the GPU, the host half (kernels in `shaders/numerator.wgsl`):
//! the engine's [`NumeratorProgram`] as pairs of words, cut into passes that end on a constraint;
//! the points in windows small enough for one binding, each window's column values uploaded
//! with the rows its rotations reach beyond it.

use ff::Field;
use halo2_proofs::pasta::Fp;
use zkinfer_engine::numerator::{Instruction, NumeratorProgram};

use crate::GpuError;
use crate::convert::{FIELD_WORDS, scalars_to_words, words_to_scalars};
use crate::device::{GpuContext, Kernel};

/// Values the kernel's stack holds (`STACK_DEPTH` in numerator.wgsl); deeper programs stay on the
/// CPU.
pub(crate) const STACK_DEPTH: usize = 16;

/// Instructions after which a pass ends at the next constraint (the loop limit of software
/// adapters; see the shader).
const PASS_INSTRUCTIONS: usize = 128;

/// The longest pass a single constraint may make (about 40 loop iterations an instruction,
/// well below the 65,535 of llvmpipe); a longer constraint stays on the CPU.
const MAX_PASS_INSTRUCTIONS: usize = 1024;

/// Opcodes (`OP_*` in numerator.wgsl).
fn opcode(i: &Instruction) -> u32 {
    match i {
        Instruction::Query { .. } => 0,
        Instruction::Constant(_) => 1,
        Instruction::Negate => 2,
        Instruction::Add => 3,
        Instruction::Multiply => 4,
        Instruction::Constraint => 5,
    }
}

/// The kernels' parameter block (`NumeratorParams` in numerator.wgsl).
#[derive(Clone, Copy, Debug, Default)]
struct NumeratorParams {
    points: u32,
    code_start: u32,
    code_end: u32,
    first: bool,
}

impl NumeratorParams {
    fn words(self, threads_x: u32) -> [u32; 8] {
        [self.points, threads_x, self.code_start, self.code_end, u32::from(self.first), 0, 0, 0]
    }
}

/// The program's passes: instruction ranges that end on a constraint, each of at least
/// [`PASS_INSTRUCTIONS`] instructions but the last.
fn passes(code: &[Instruction]) -> Result<Vec<std::ops::Range<usize>>, GpuError> {
    let mut passes = Vec::new();
    let mut start = 0;
    for (pc, i) in code.iter().enumerate() {
        if *i == Instruction::Constraint && (pc + 1 - start >= PASS_INSTRUCTIONS || pc + 1 == code.len()) {
            passes.push(start..pc + 1);
            start = pc + 1;
        }
    }
    if start != code.len() {
        return Err(GpuError::TooLarge("a numerator program that does not end on a constraint".into()));
    }
    if let Some(long) = passes.iter().find(|p| p.len() > MAX_PASS_INSTRUCTIONS) {
        return Err(GpuError::TooLarge(format!("a pass of {} numerator instructions", long.len())));
    }
    Ok(passes)
}

fn run(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    kernel: &Kernel,
    params: NumeratorParams,
    buffers: &[(u32, &wgpu::Buffer)],
) -> Result<(), GpuError> {
    let (x, y, threads_x) = ctx.grid(params.points)?;
    let uniform = ctx.uniform("numerator params", &params.words(threads_x));
    let mut bound: Vec<(u32, &wgpu::Buffer)> = buffers.to_vec();
    bound.push((2, &uniform));
    let pipeline = kernel.get(ctx);
    let bind_group = ctx.bind(pipeline, &bound);
    ctx.dispatch(encoder, pipeline, &bind_group, (x, y));
    Ok(())
}

/// The program's value at each of `points` points (see
/// [`zkinfer_engine::backend::Backend::evaluate_numerator`]), in windows as large as one binding
/// holds.
pub(crate) fn evaluate_numerator(
    ctx: &GpuContext,
    program: &NumeratorProgram,
    columns: &[&[Fp]],
    points: usize,
    y: Fp,
    step: usize,
) -> Result<Vec<Fp>, GpuError> {
    evaluate_numerator_windowed(ctx, program, columns, points, y, step, usize::MAX)
}

/// The same in windows of at most `max_window_points` points (tests: windows whose rotations
/// reach into the next window and around the domain).
///
/// # Panics
/// If `columns` is not one column per slot, or a column is shorter than `points`.
pub fn evaluate_numerator_windowed(
    ctx: &GpuContext,
    program: &NumeratorProgram,
    columns: &[&[Fp]],
    points: usize,
    y: Fp,
    step: usize,
    max_window_points: usize,
) -> Result<Vec<Fp>, GpuError> {
    assert_eq!(columns.len(), program.columns.len(), "one column per program slot");
    assert!(columns.iter().all(|c| c.len() >= points), "a value per point in each column");
    if program.max_stack > STACK_DEPTH {
        return Err(GpuError::TooLarge(format!("a numerator program {} values deep", program.max_stack)));
    }
    let passes = passes(&program.code)?;
    let mut result = vec![Fp::ZERO; points];
    if passes.is_empty() || points == 0 {
        return Ok(result);
    }
    let (min_rotation, max_rotation) = program.rotation_range();
    let reach = |rotation: i32| i64::from(rotation) * step as i64;
    let span = usize::try_from(reach(max_rotation) - reach(min_rotation))
        .map_err(|_| GpuError::TooLarge("numerator rotations".into()))?;
    // Points per window: the most whose values fit one binding (a power of two, as `points`).
    let point_bytes = (program.columns.len().max(1) * FIELD_WORDS * 4) as u64;
    let fits = |len: usize| (len + span) as u64 * point_bytes <= ctx.max_binding();
    let mut window_points = points.next_power_of_two().min(max_window_points.max(1));
    while window_points > 1 && !fits(window_points) {
        window_points /= 2;
    }
    if !fits(window_points) {
        return Err(GpuError::TooLarge(format!("numerator columns of {} values", span + 1)));
    }
    let mut constants = vec![y];
    constants.extend_from_slice(&program.constants);
    let constants = ctx.storage("numerator constants", &scalars_to_words(&constants))?;
    for start in (0..points).step_by(window_points) {
        let len = window_points.min(points - start);
        let window = len + span;
        let first_row = (start as i64 + reach(min_rotation)).rem_euclid(points as i64) as usize;
        let mut values = Vec::with_capacity(program.columns.len() * window);
        for column in columns {
            values.extend((0..window).map(|t| column[(first_row + t) % points]));
        }
        let code: Vec<u32> = program
            .code
            .iter()
            .flat_map(|i| {
                let operand = match *i {
                    Instruction::Query { slot, rotation } => {
                        slot.0 as usize * window + (reach(rotation) - reach(min_rotation)) as usize
                    }
                    Instruction::Constant(c) => c.0 as usize,
                    _ => 0,
                };
                [opcode(i), operand as u32]
            })
            .collect();
        let values = ctx.storage("numerator column values", &scalars_to_words(&values))?;
        let code = ctx.storage("numerator program", &code)?;
        let acc = ctx.scratch("numerator accumulators", len * FIELD_WORDS)?;
        let out = ctx.scratch("numerator results", len * FIELD_WORDS)?;
        let len32 = u32::try_from(len).map_err(|_| GpuError::TooLarge(format!("{len} numerator points")))?;
        let k = &ctx.kernels;
        let mut encoder = ctx.encoder();
        for (p, range) in passes.iter().enumerate() {
            let params = NumeratorParams {
                points: len32,
                code_start: range.start as u32,
                code_end: range.end as u32,
                first: p == 0,
            };
            run(ctx, &mut encoder, &k.numerator_pass, params, &[(0, &values), (1, &code), (3, &constants), (4, &acc)])?;
        }
        let params = NumeratorParams { points: len32, ..NumeratorParams::default() };
        run(ctx, &mut encoder, &k.numerator_finish, params, &[(4, &acc), (5, &out)])?;
        let words = ctx.read_back(encoder, &out)?;
        words_to_scalars(&words, &mut result[start..start + len])?;
    }
    Ok(result)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passes_end_on_constraints_and_cover_the_program() {
        use Instruction::{Add, Constraint, Multiply, Negate};
        let one = [Negate, Constraint];
        let code: Vec<Instruction> = (0..200).flat_map(|_| one).collect();
        let cut = passes(&code).unwrap();
        assert_eq!(cut.first(), Some(&(0..PASS_INSTRUCTIONS)));
        assert_eq!(cut.last().map(|p| p.end), Some(code.len()));
        assert!(cut.windows(2).all(|w| w[0].end == w[1].start));
        assert!(cut.iter().all(|p| code[p.end - 1] == Constraint));
        // A program that does not end on a constraint, and a constraint too long for a pass.
        assert!(passes(&[Add, Constraint, Multiply]).is_err());
        let long: Vec<Instruction> = std::iter::repeat_n(Add, MAX_PASS_INSTRUCTIONS).chain([Constraint]).collect();
        assert!(passes(&long).is_err());
        assert_eq!(passes(&[]).unwrap(), Vec::<std::ops::Range<usize>>::new());
    }
}
