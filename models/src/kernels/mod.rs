//! Naive reference kernels, generic over the element type, shared by the float evaluator
//! (`f32`) and the integer interpreter (`i64`): one definition of each op's data movement, so
//! the two cannot drift apart. Clarity over speed: these are the specification.

use ndarray::{Array1, Array2, Array4, ArrayD, Axis, IxDyn, LinalgScalar};

use crate::graph::ops::{ArgMax, TransposedWindow, Window2d};

/// `y[.., o] = Σ_i x[.., i] · w[o, i] (+ b[o])`.
pub fn dense<T: LinalgScalar>(x: &ArrayD<T>, w: &Array2<T>, b: Option<&Array1<T>>) -> ArrayD<T> {
    let in_f = w.ncols();
    let rows = x.len() / in_f.max(1);
    let x2 = x.as_standard_layout().into_owned().into_shape_with_order((rows, in_f)).expect("shape checked at import");
    let mut y = x2.dot(&w.t());
    if let Some(b) = b {
        for mut row in y.rows_mut() {
            row.zip_mut_with(b, |v, &c| *v = *v + c);
        }
    }
    let mut shape = x.shape().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = w.nrows();
    }
    y.into_shape_with_order(IxDyn(&shape)).expect("same element count")
}

/// NCHW convolution, groups 1, dilation 1; padding contributes zeros.
pub fn conv2d<T: LinalgScalar>(x: &ArrayD<T>, w: &Array4<T>, b: Option<&Array1<T>>, win: &Window2d) -> ArrayD<T> {
    let (n, ci, h, wd) = dims4(x);
    let co = w.shape()[0];
    let [oh, ow] = win.output_hw(h, wd).expect("shape checked at import");
    let mut y = ArrayD::from_elem(IxDyn(&[n, co, oh, ow]), T::zero());
    for bn in 0..n {
        for o in 0..co {
            let init = b.map_or(T::zero(), |b| b[o]);
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = init;
                    for (ky, kx, iy, ix) in win.taps(oy, ox, h, wd) {
                        for c in 0..ci {
                            acc = acc + x[[bn, c, iy, ix]] * w[[o, c, ky, kx]];
                        }
                    }
                    y[[bn, o, oy, ox]] = acc;
                }
            }
        }
    }
    y
}

/// Transposed convolution, as a gather: output `(o, oy, ox)` sums `x[c, iy, ix]·w[c, o, ky, kx]`
/// over the inputs that reach it ([`TransposedWindow::taps`]).
pub fn conv_transpose2d<T: LinalgScalar>(
    x: &ArrayD<T>,
    w: &Array4<T>,
    b: Option<&Array1<T>>,
    win: &TransposedWindow,
) -> ArrayD<T> {
    let (n, ci, h, wd) = dims4(x);
    let co = w.shape()[1];
    let [oh, ow] = win.output_hw(h, wd).expect("shape checked at import");
    let mut y = ArrayD::from_elem(IxDyn(&[n, co, oh, ow]), T::zero());
    for bn in 0..n {
        for o in 0..co {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = b.map_or(T::zero(), |b| b[o]);
                    for (ky, kx, iy, ix) in win.taps(oy, ox, h, wd) {
                        for c in 0..ci {
                            acc = acc + x[[bn, c, iy, ix]] * w[[c, o, ky, kx]];
                        }
                    }
                    y[[bn, o, oy, ox]] = acc;
                }
            }
        }
    }
    y
}

/// Max over each window, ignoring padding.
pub fn max_pool<T: Copy + PartialOrd>(x: &ArrayD<T>, win: &Window2d) -> ArrayD<T> {
    window_reduce(x, win, |taps| {
        let mut it = taps.into_iter();
        let first = it.next().expect("every window covers at least one input cell");
        it.fold(first, |m, v| if v > m { v } else { m })
    })
}

/// Sum over each window (padding adds nothing) and the number of input cells it covered.
pub fn sum_pool<T: LinalgScalar>(x: &ArrayD<T>, win: &Window2d) -> (ArrayD<T>, Vec<usize>) {
    let (_, _, h, w) = dims4(x);
    let [oh, ow] = win.output_hw(h, w).expect("shape checked at import");
    let counts =
        (0..oh).flat_map(|oy| (0..ow).map(move |ox| (oy, ox))).map(|(oy, ox)| win.taps(oy, ox, h, w).count()).collect();
    let sums = window_reduce(x, win, |taps| taps.into_iter().fold(T::zero(), |a, v| a + v));
    (sums, counts)
}

/// Applies `reduce` to the input cells of every window (padding skipped), in output order
/// (batch, channel, row, column). The circuits use it too, so windows are enumerated once.
pub fn window_reduce<T: Copy, U>(x: &ArrayD<T>, win: &Window2d, mut reduce: impl FnMut(Vec<T>) -> U) -> ArrayD<U> {
    let (n, c, h, w) = dims4(x);
    let [oh, ow] = win.output_hw(h, w).expect("shape checked at import");
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for bn in 0..n {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let taps: Vec<T> = win.taps(oy, ox, h, w).map(|(_, _, iy, ix)| x[[bn, ch, iy, ix]]).collect();
                    out.push(reduce(taps));
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[n, c, oh, ow]), out).expect("sized above")
}

/// Sum over the spatial axes, keeping them with size 1.
pub fn global_sum<T: LinalgScalar>(x: &ArrayD<T>) -> ArrayD<T> {
    let (n, c, _, _) = dims4(x);
    let s = x.sum_axis(Axis(3)).sum_axis(Axis(2));
    s.into_shape_with_order(IxDyn(&[n, c, 1, 1])).expect("same element count")
}

/// Apply `f` element-wise to `a` and `b` broadcast to their common shape.
pub fn broadcast_zip<T: Copy, U>(a: &ArrayD<T>, b: &ArrayD<T>, f: impl Fn(T, T) -> U) -> ArrayD<U> {
    let shape = crate::graph::ops::broadcast_shape(a.shape(), b.shape()).expect("checked at import");
    let av = a.broadcast(IxDyn(&shape)).expect("broadcastable");
    let bv = b.broadcast(IxDyn(&shape)).expect("broadcastable");
    ndarray::Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y))
}

/// Permute axes (materialised in standard layout).
pub fn transpose<T: Clone>(x: &ArrayD<T>, perm: &[usize]) -> ArrayD<T> {
    x.view().permuted_axes(IxDyn(perm)).as_standard_layout().into_owned()
}

/// Nearest-neighbour upsampling of an NCHW tensor: output `(n, c, i, j)` is input
/// `(n, c, i / fh, j / fw)`.
pub fn upsample_nearest<T: Clone>(x: &ArrayD<T>, factors: [usize; 2]) -> ArrayD<T> {
    let s = x.shape();
    let shape = [s[0], s[1], s[2] * factors[0], s[3] * factors[1]];
    ArrayD::from_shape_fn(IxDyn(&shape), |i| x[[i[0], i[1], i[2] / factors[0], i[3] / factors[1]]].clone())
}

/// Reshape in row-major order.
pub fn reshape<T: Clone>(x: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    x.as_standard_layout().into_owned().into_shape_with_order(IxDyn(shape)).expect("shape checked at import")
}

/// Index of the first largest value along the axis.
pub fn argmax<T: Copy + PartialOrd>(x: &ArrayD<T>, a: &ArgMax) -> ArrayD<i64> {
    let mut out = x.map_axis(Axis(a.axis), |lane| {
        let mut best = 0;
        for (i, v) in lane.iter().enumerate() {
            if *v > lane[best] {
                best = i;
            }
        }
        best as i64
    });
    if a.keepdims {
        out.insert_axis_inplace(Axis(a.axis));
    }
    out
}

fn dims4<T>(x: &ArrayD<T>) -> (usize, usize, usize, usize) {
    let &[n, c, h, w] = x.shape() else {
        unreachable!("expected an NCHW tensor, got {:?} (shapes are checked at import and on load)", x.shape())
    };
    (n, c, h, w)
}
