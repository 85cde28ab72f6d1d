// The quotient's numerator (the engine's NumeratorProgram): one thread per point of the
// extended domain runs the program's stack machine over the column values the host uploaded
// for a window of points, and folds each constraint into h by h <- h * y + c.
//   numerator_pass:   a stretch of the program that ends on a constraint (the stack is empty
//                 between passes; h is kept on the device, in Montgomery form);
//   numerator_finish: h in canonical words.
// Passes bound the loop iterations of one thread (Mesa's llvmpipe stops every loop of an
// invocation after 65,535 iterations in all, silently; an instruction takes at most a few
// dozen of them). Instructions are pairs of words (opcode, operand); a query's operand is the
// index of its value for the window's first point, the point's index in the window added here.
//
// Needs field.wgsl over Fp.

struct NumeratorParams {
    points: u32,     // points in this window
    threads_x: u32,  // threads per row of the dispatch grid
    code_start: u32, // this pass's instructions: [code_start, code_end)
    code_end: u32,
    first: u32,      // 1: h starts at zero
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const OP_QUERY: u32 = 0u;
const OP_CONSTANT: u32 = 1u;
const OP_NEGATE: u32 = 2u;
const OP_ADD: u32 = 3u;
const OP_MULTIPLY: u32 = 4u;
const OP_CONSTRAINT: u32 = 5u;
const STACK_DEPTH: u32 = {{STACK_DEPTH}}u;

@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<storage, read> code: array<u32>;
@group(0) @binding(2) var<uniform> params: NumeratorParams;
// y, then the program's constants (canonical words).
@group(0) @binding(3) var<storage, read> constants: array<u32>;
@group(0) @binding(4) var<storage, read_write> acc: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

fn load_value(i: u32) -> Fe {
    var w: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        w[k] = values[i * 8u + k];
    }
    return f_to_mont(f_unpack(w));
}

fn load_constant(i: u32) -> Fe {
    var w: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        w[k] = constants[i * 8u + k];
    }
    return f_to_mont(f_unpack(w));
}

fn load_acc(i: u32) -> Fe {
    var w: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        w[k] = acc[i * 8u + k];
    }
    return f_unpack(w);
}

fn store_acc(i: u32, a: Fe) {
    let w = f_pack(a);
    for (var k = 0u; k < 8u; k++) {
        acc[i * 8u + k] = w[k];
    }
}

@compute @workgroup_size(64)
fn numerator_pass(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.threads_x;
    if (j >= params.points) {
        return;
    }
    var h = f_zero();
    if (params.first == 0u) {
        h = load_acc(j);
    }
    let y = load_constant(0u);
    var stack: array<Fe, STACK_DEPTH>;
    var top = 0u;
    for (var pc = params.code_start; pc < params.code_end; pc++) {
        let op = code[2u * pc];
        let operand = code[2u * pc + 1u];
        switch op {
            case OP_QUERY: {
                stack[top] = load_value(operand + j);
                top++;
            }
            case OP_CONSTANT: {
                stack[top] = load_constant(operand + 1u);
                top++;
            }
            case OP_NEGATE: {
                stack[top - 1u] = f_neg(stack[top - 1u]);
            }
            case OP_ADD: {
                stack[top - 2u] = f_add(stack[top - 2u], stack[top - 1u]);
                top--;
            }
            case OP_MULTIPLY: {
                stack[top - 2u] = f_mul(stack[top - 2u], stack[top - 1u]);
                top--;
            }
            default: {
                // OP_CONSTRAINT
                h = f_add(f_mul(h, y), stack[top - 1u]);
                top--;
            }
        }
    }
    store_acc(j, h);
}

@compute @workgroup_size(64)
fn numerator_finish(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.threads_x;
    if (j >= params.points) {
        return;
    }
    let w = f_pack(f_from_mont(load_acc(j)));
    for (var k = 0u; k < 8u; k++) {
        out[j * 8u + k] = w[k];
    }
}
