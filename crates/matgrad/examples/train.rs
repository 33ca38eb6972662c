//! Training with matgrad's compiled gradients: fit the weights A and B of the example
//! network (examples/backprop.mg) to data by gradient descent.
//!
//! The data are N samples (the columns of X) labelled by a teacher network of the same
//! shape with weights we then forget; the student starts from other random weights, and
//! the loss falls as it learns. The program is compiled once; each step runs it on the
//! current weights (our own `Vec<f64>` buffers, column-major) and updates them in place.
//!
//!     cargo run -p matgrad --example train --release

use matgrad::{AlignedAlloc, Error, Program};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Our buffers on 64-byte boundaries, which the compiled kernels read faster.
#[global_allocator]
static ALLOCATOR: AlignedAlloc = AlignedAlloc;

/// The example network, on a batch: every column of X is one input x, of T its target.
const NETWORK: &str = "
X, T: matrix(K, N)
A, B: matrix(K, K)

Y = A*X
U = sigmoid(Y)
V = B*X
Z = A*(U.*V)
W = A*Z
L = norm2(W - T)^2 / 2
";

/// The same network's output alone.
const TEACHER: &str = "
X: matrix(K, N)
A, B: matrix(K, K)
W = A*(A*(sigmoid(A*X).*(B*X)))
";

const K: usize = 16;
const N: usize = 256;
const STEPS: usize = 3000;

fn main() -> Result<(), Error> {
    let f = Program::parse(NETWORK)?.gradient(&["A", "B"])?.compile(&[("K", K), ("N", N)])?;
    let mut out = f.outputs();

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut draw = |len: usize, std: f64| -> Vec<f64> {
        let normal = Normal::new(0.0, std).expect("a positive deviation");
        (0..len).map(|_| normal.sample(&mut rng)).collect()
    };
    let scale = 1.0 / (K as f64).sqrt();
    let x = draw(K * N, 1.0);
    let (teacher_a, teacher_b) = (draw(K * K, scale), draw(K * K, scale));
    let (mut a, mut b) = (draw(K * K, scale), draw(K * K, scale));

    // The targets are the teacher network's outputs: the same network without the loss (a
    // program's output is its last statement, here W), compiled for its value alone.
    let teacher = Program::parse(TEACHER)?.compile(&[("K", K), ("N", N)])?;
    let mut targets = teacher.outputs();
    teacher.run(&[("X", &x), ("A", &teacher_a), ("B", &teacher_b)], &mut targets)?;
    let t = targets.value().data.clone();

    // Plain gradient descent on the mean loss, with a step that suits this network.
    let rate = 0.2 / N as f64;
    let start = std::time::Instant::now();
    for step in 0..=STEPS {
        f.run(&[("X", &x), ("T", &t), ("A", &a), ("B", &b)], &mut out)?;
        let loss = out.scalar().expect("the loss is a scalar") / N as f64;
        if step % 300 == 0 {
            println!("step {step:>5}   loss per sample {loss:.6}");
        }
        let (grad_a, grad_b) = (out.gradient("A").expect("compiled"), out.gradient("B").expect("compiled"));
        for (w, g) in a.iter_mut().zip(&grad_a.data) {
            *w -= rate * g;
        }
        for (w, g) in b.iter_mut().zip(&grad_b.data) {
            *w -= rate * g;
        }
    }
    let elapsed = start.elapsed();
    println!(
        "{} steps of value and gradient in {:.2?} ({:.1} µs per step, K = {K}, batch {N})",
        STEPS + 1,
        elapsed,
        elapsed.as_secs_f64() * 1e6 / (STEPS + 1) as f64
    );
    Ok(())
}
