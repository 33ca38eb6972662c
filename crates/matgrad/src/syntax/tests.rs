//! Data-driven tests: each case is one input and its expected S-expression (spans
//! ignored), or its expected error message and span.

use super::*;

/// The program as S-expressions, statements separated by `; `:
/// `(= y (* A x))`, `(: A B (matrix m n))`, `(neg x)`, `(' A)`, `(sigmoid y)`.
fn sexpr(program: &Program) -> String {
    program.items.iter().map(item).collect::<Vec<_>>().join("; ")
}

fn item(item: &Item) -> String {
    match item {
        Item::Assign { name, value, .. } => format!("(= {} {})", name.text, expr(value)),
        Item::Declare { names, ty, .. } => {
            let names: Vec<&str> = names.iter().map(|n| n.text.as_str()).collect();
            format!("(: {} {})", names.join(" "), type_spec(ty))
        }
    }
}

fn type_spec(ty: &TypeSpec) -> String {
    match ty {
        TypeSpec::Scalar => "scalar".to_string(),
        TypeSpec::Vector(n) => format!("(vector {})", dim(n)),
        TypeSpec::Matrix(m, n) => format!("(matrix {} {})", dim(m), dim(n)),
    }
}

fn dim(dim: &DimSpec) -> String {
    match &dim.kind {
        DimSpecKind::Symbol(name) => name.clone(),
        DimSpecKind::Number(n) => n.to_string(),
    }
}

fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Number(value) => value.to_string(),
        ExprKind::Var(name) => name.clone(),
        ExprKind::Neg(x) => format!("(neg {})", expr(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.ascii(), expr(a), expr(b)),
        ExprKind::Transpose(x) => format!("(' {})", expr(x)),
        ExprKind::Call { name, args, .. } => {
            let args: Vec<String> = args.iter().map(expr).collect();
            format!("({} {})", name, args.join(" "))
        }
        ExprKind::Ones(None) => "𝟙".to_string(),
        ExprKind::Ones(Some(length)) => format!("𝟙_{length}"),
        ExprKind::Bold(x) => format!("(bold {})", expr(x)),
        ExprKind::Derivative { name, args, .. } => {
            let args: Vec<String> = args.iter().map(expr).collect();
            format!("({}' {})", name, args.join(" "))
        }
        ExprKind::IndexSum { indices, body } => {
            let indices: Vec<String> = indices
                .iter()
                .map(|index| match &index.range {
                    Some(range) => format!("{}={}..{}", index.name, range.from, range.to),
                    None => index.name.clone(),
                })
                .collect();
            format!("(Σ_{} {})", indices.join(","), expr(body))
        }
        ExprKind::Entry { base, indices, .. } => format!("(entry {} {})", expr(base), indices.join(",")),
    }
}

#[track_caller]
fn check(input: &str, expected: &str) {
    match parse(input) {
        Ok(program) => assert_eq!(sexpr(&program), expected, "input: {input:?}"),
        Err(e) => panic!("input {input:?} failed: {} at {:?} (hint: {:?})", e.message, e.span, e.hint),
    }
}

/// Checks each `(input, expected)` row, reporting every row that differs.
#[track_caller]
fn check_all(rows: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (input, expected) in rows {
        match parse(input) {
            Ok(program) if sexpr(&program) == *expected => {}
            Ok(program) => failures.push(format!("{input:?}\n  got:      {}\n  expected: {expected}", sexpr(&program))),
            Err(e) => failures.push(format!("{input:?}\n  failed: {} at {:?}", e.message, e.span)),
        }
    }
    assert!(failures.is_empty(), "{} rows differ:\n{}", failures.len(), failures.join("\n"));
}

/// Checks a document: its items, and the text of what it ignored.
#[track_caller]
fn check_document(input: &str, expected: &str, ignored: &[&str]) {
    check(input, expected);
    let program = parse(input).expect("checked above");
    let texts: Vec<&str> = program.ignored.iter().map(|span| &input[span.range()]).collect();
    assert_eq!(texts, ignored, "ignored text of {input:?}");
}

/// Checks that `input` fails with exactly `message`, with the span `(start, end)` in bytes.
#[track_caller]
fn check_error(input: &str, message: &str, span: (usize, usize)) {
    match parse(input) {
        Ok(program) => panic!("input {input:?} parsed as {}", sexpr(&program)),
        Err(e) => {
            assert_eq!(e.message, message, "message for {input:?}");
            assert_eq!(e.span.map(|s| (s.start, s.end)), Some(span), "span for {input:?}");
        }
    }
}

const MOTIVATING_SEXPR: &str = "(= y (* A x)); (= u (sigmoid y)); (= v (* B x)); \
    (= z (* A (.* u v))); (= w (* A z)); (= L (^ (norm2 w) 2))";

#[test]
fn motivating_example_in_three_spellings() {
    check("y = A*x; u = sigmoid(y); v = B*x; z = A*(u.*v); w = A*z; L = norm2(w)^2", MOTIVATING_SEXPR);
    check("y = A x\nu = σ(y)\nv = B x\nz = A (u ⊙ v)\nw = A z\nL = ‖w‖²", MOTIVATING_SEXPR);
    check(r"$$y = Ax$$ $$u = \sigma (y)$$ $$v = Bx$$ $$z = A (u * v)$$ $$w = Az$$ $$ L = ||w||^2$$", MOTIVATING_SEXPR);
    // LaTeX statements outside a document, separated by `\\`.
    check(r"y = Ax \\ u = \sigma(y) \\ v = Bx \\ z = A (u * v) \\ w = Az \\ L = ||w||^2", MOTIVATING_SEXPR);
    // Mixed on lines: each statement in its own spelling.
    check("y = A*x\nu = \\sigma(y)\nv = B x; z = A (u \\odot v)\nw = A*z\nL = \\|w\\|^2", MOTIVATING_SEXPR);
}

#[test]
fn the_questions_text() {
    let question = r"Let $x \in \mathbb{R^k}$ and let $A, B$ be $k \times k$ matrices.
$$y = Ax$$ $$u = \sigma (y)$$ $$v = Bx$$ $$z = A (u * v)$$ $$w = Az$$ $$ L = ||w||^2$$
How do I find $\frac{\partial L}{\partial x}$?";
    check_document(
        question,
        &format!("(: x (vector k)); {MOTIVATING_SEXPR}"),
        &["Let", r"and let $A, B$ be $k \times k$ matrices.", r"How do I find $\frac{\partial L}{\partial x}$?"],
    );
    check(r"$x \in \mathbb{R^k}$", "(: x (vector k))");
}

#[test]
fn ascii_operators_and_precedence() {
    check_all(&[
        ("y = a + b - c", "(= y (- (+ a b) c))"),
        ("y = a - b - c", "(= y (- (- a b) c))"),
        ("y = a + b*c", "(= y (+ a (* b c)))"),
        ("y = A*x", "(= y (* A x))"),
        ("y = u.*v", "(= y (.* u v))"),
        ("y = u./v", "(= y (./ u v))"),
        ("y = u/2", "(= y (/ u 2))"),
        ("y = x^2", "(= y (^ x 2))"),
        ("y = x.^2", "(= y (.^ x 2))"),
        ("y = A'", "(= y (' A))"),
        ("y = A.'", "(= y (' A))"),
        ("y = A''", "(= y (' (' A)))"),
        ("y = A'*x", "(= y (* (' A) x))"),
        ("y = (A+B)'", "(= y (' (+ A B)))"),
        ("y = a*b/c.*d./e", "(= y (./ (.* (/ (* a b) c) d) e))"),
        // Powers are left-associative, as in MATLAB.
        ("y = 2^3^2", "(= y (^ (^ 2 3) 2))"),
        ("y = x.^2.^3", "(= y (.^ (.^ x 2) 3))"),
        // Unary minus binds looser than powers, tighter than products.
        ("y = -s^2", "(= y (neg (^ s 2)))"),
        ("y = -a*b", "(= y (* (neg a) b))"),
        ("y = a*-b", "(= y (* a (neg b)))"),
        ("y = --x", "(= y (neg (neg x)))"),
        ("y = +x", "(= y x)"),
        ("y = -x'", "(= y (neg (' x)))"),
        ("y = a - -b", "(= y (- a (neg b)))"),
        ("y = 2^-1", "(= y (^ 2 -1))"),
        ("y = x^-1^2", "(= y (^ (^ x -1) 2))"),
        ("y = x^(-1)", "(= y (^ x -1))"),
        ("y = x^-n", "(= y (^ x (neg n)))"),
        ("y = x^(n+1)", "(= y (^ x (+ n 1)))"),
        // Postfix binds tighter than `^`.
        ("y = x^2'", "(= y (^ x (' 2)))"),
        ("y = A^T", "(= y (' A))"),
        ("y = A^T x", "(= y (* (' A) x))"),
        // Numbers.
        ("y = 2 + 0.5 + .5 + 1e-3 + 2E+3", "(= y (+ (+ (+ (+ 2 0.5) 0.5) 0.001) 2000))"),
        ("y = 1.*x", "(= y (.* 1 x))"),
        // Juxtaposition is a product at the level of `*`.
        ("y = A x", "(= y (* A x))"),
        ("y = 2 x", "(= y (* 2 x))"),
        ("y = 2x", "(= y (* 2 x))"),
        ("y = A (u .* v)", "(= y (* A (.* u v)))"),
        ("y = (A+B) x", "(= y (* (+ A B) x))"),
        ("y = 2 A x", "(= y (* (* 2 A) x))"),
        ("y = a b^2", "(= y (* a (^ b 2)))"),
        ("y = a -b", "(= y (- a b))"),
        ("y = a b + c d", "(= y (+ (* a b) (* c d)))"),
        ("y = [a + b] {c}", "(= y (* (+ a b) c))"),
        // Calls: a name touching `(`, or a known function before `(`.
        ("y = A(x)", "(= y (A x))"),
        ("y = f(a, b)", "(= y (f a b))"),
        ("y = f()", "(= y (f ))"),
        ("y = A (x)", "(= y (* A x))"),
        ("y = sigmoid (y)", "(= y (sigmoid y))"),
        ("y = norm2(w)^2", "(= y (^ (norm2 w) 2))"),
        ("y = exp x", "(= y (exp x))"),
        ("y = log x^2", "(= y (log (^ x 2)))"),
        ("y = sum(x)'", "(= y (' (sum x)))"),
        ("y = sum", "(= y sum)"),
        ("y = |x| + ||x||", "(= y (+ (abs_bars x) (norm2 x)))"),
        ("y = ||x||_1 + ||X||_F", "(= y (+ (norm_1 x) (norm2 X)))"),
        // Names.
        ("W1 = W_1 + x0 + beta + W_1x", "(= W1 (+ (+ (+ W_1 x0) beta) W_1x))"),
        ("y = W_{1} + b_{out}", "(= y (+ W_1 b_out))"),
        ("y = W_1 x", "(= y (* W_1 x))"),
    ]);
}

#[test]
fn unicode_spelling() {
    check_all(&[
        ("z = A (u ⊙ v)", "(= z (* A (.* u v)))"),
        ("z = u ∘ v", "(= z (.* u v))"),
        ("z = A·x + A⋅x + A × x", "(= z (+ (+ (· A x) (· A x)) (* A x)))"),
        ("z = a − b", "(= z (- a b))"),
        ("z = −a", "(= z (neg a))"),
        ("u = σ(y)", "(= u (sigmoid y))"),
        ("u = σ (y)", "(= u (sigmoid y))"),
        ("u = σ y", "(= u (sigma y))"),
        ("u = σ", "(= u sigma)"),
        ("L = ‖w‖²", "(= L (^ (norm2 w) 2))"),
        (
            "L = ‖w‖₁ + ‖w‖_1 + ‖w‖₂ + ‖w‖_2 + ‖W‖_F",
            "(= L (+ (+ (+ (+ (norm_1 w) (norm_1 w)) (norm_2 w)) (norm_2 w)) (norm2 W)))",
        ),
        ("L = ∥w∥", "(= L (norm2 w))"),
        ("y = |x|", "(= y (abs_bars x))"),
        ("y = Aᵀ", "(= y (' A))"),
        ("y = A′", "(= y (' A))"),
        ("y = A⁻¹", "(= y (^ A -1))"),
        ("y = A⁻¹ᵀ", "(= y (' (^ A -1)))"),
        ("y = x² + x³ + x⁻² + x¹⁰", "(= y (+ (+ (+ (^ x 2) (^ x 3)) (^ x -2)) (^ x 10)))"),
        ("y = -x²", "(= y (neg (^ x 2)))"),
        ("y = 2x²", "(= y (* 2 (^ x 2)))"),
        ("y = xⁿ", "(= y (^ x n))"),
        ("y = A^⊤", "(= y (' A))"),
        ("y = √(x) + √x", "(= y (+ (sqrt x) (sqrt x)))"),
        ("y = √x²", "(= y (sqrt (^ x 2)))"),
        ("θ = α x + β + λ + μ + Σ", "(= theta (+ (+ (+ (+ (* alpha x) beta) lambda) mu) Sigma))"),
        // Variant forms are letters of their own, as LaTeX draws them: ϵ \epsilon, ε \varepsilon.
        ("y = ϵ + ε + φ + ϕ", "(= y (+ (+ (+ epsilon varepsilon) varphi) phi))"),
        ("y = W₁ x + α_1", "(= y (+ (* W_1 x) alpha_1))"),
        ("y = 2α", "(= y (* 2 alpha))"),
        ("y = ‖|a|‖", "(= y (norm2 (abs_bars a)))"),
        ("y = |a| |b|", "(= y (* (abs_bars a) (abs_bars b)))"),
        ("y = |a||b|", "(= y (* (abs_bars a) (abs_bars b)))"),
        ("y = ‖x - ‖y‖ z‖", "(= y (norm2 (- x (* (norm2 y) z))))"),
        ("y = |a|‖b‖", "(= y (* (abs_bars a) (norm2 b)))"),
    ]);
}

#[test]
fn latex_spelling() {
    check_all(&[
        // One-letter names and juxtaposition.
        (r"$$y = Ax$$", "(= y (* A x))"),
        (r"$$y = 2Ax$$", "(= y (* (* 2 A) x))"),
        (r"$$y = A (u * v)$$", "(= y (* A (.* u v)))"),
        (r"$$y = A(x + b)$$", "(= y (* A (+ x b)))"),
        (
            r"$$y = W_1 x + W_{1} x + W_{12} + W_12 + b_{out} + x_i$$",
            "(= y (+ (+ (+ (+ (+ (* W_1 x) (* W_1 x)) W_12) W_12) b_out) x_i))",
        ),
        (r"$$y = x_ij$$", "(= y (* x_i j))"),
        (r"$$y = W_1x$$", "(= y (* W_1 x))"),
        (
            r"$$y = \alpha x + \beta \lambda + \theta + \mu + \eta + \Sigma + \Lambda + \varepsilon$$",
            "(= y (+ (+ (+ (+ (+ (+ (+ (* alpha x) (* beta lambda)) theta) mu) eta) Sigma) Lambda) varepsilon))",
        ),
        (
            r"$$y = \sigma(x) + \sigma (x) + \sigma\left(x\right) + \sigma x + \sigma^2$$",
            "(= y (+ (+ (+ (+ (sigmoid x) (sigmoid x)) (sigmoid x)) (sigma x)) (^ sigma 2)))",
        ),
        (r"$$y = \alpha_1 + \mathbf{W}_1 + W_{\text{out}}$$", "(= y (+ (+ alpha_1 (bold W_1)) W_out))"),
        // Wrappers and accents.
        (
            r"$$y = \mathbf{W} \boldsymbol{x} + \bm{b} + \vec{v} + \mathrm{x} + \mathbf x$$",
            "(= y (+ (+ (+ (+ (* (bold W) (bold x)) (bold b)) v) x) (bold x)))",
        ),
        (
            r"$$y = \hat{y} + \tilde{x} + \bar{x} + \hat y + \hat{\mathbf{y}}$$",
            "(= y (+ (+ (+ (+ yhat xtilde) xbar) yhat) yhat))",
        ),
        (r"$$\hat{y}_1 = \hat{y_1}$$", "(= yhat_1 yhat_1)"),
        (r"$$\mathrm{loss} = x$$", "(= loss x)"),
        (r"$$y = \mathbf{Wx}$$", "(= y (* W x))"),
        // Products.
        (r"$$y = A \cdot x + A \times x$$", "(= y (+ (· A x) (* A x)))"),
        (r"$$y = u * v + u \odot v + u \circ v + u \ast v$$", "(= y (+ (+ (+ (.* u v) (.* u v)) (.* u v)) (.* u v)))"),
        (
            r"$$y = a / b + \frac{a}{b} + \dfrac{a+b}{2} + \frac12$$",
            "(= y (+ (+ (+ (/ a b) (/ a b)) (/ (+ a b) 2)) (/ 1 2)))",
        ),
        (r"$$y = \frac{1}{2} x^2$$", "(= y (* (/ 1 2) (^ x 2)))"),
        // Norms and absolute values.
        (
            r"$$y = \|w\| + ||w|| + \lVert w \rVert + \left\| w \right\| + \Vert w\Vert$$",
            "(= y (+ (+ (+ (+ (norm2 w) (norm2 w)) (norm2 w)) (norm2 w)) (norm2 w)))",
        ),
        (
            r"$$y = \|w\|_1 + \|w\|_2 + \|W\|_F + \|W\|_{F} + \|w\|_{1}$$",
            "(= y (+ (+ (+ (+ (norm_1 w) (norm_2 w)) (norm2 W)) (norm2 W)) (norm_1 w)))",
        ),
        (
            r"$$y = |x| + \lvert x\rvert + \left| x \right| + \vert x \vert$$",
            "(= y (+ (+ (+ (abs_bars x) (abs_bars x)) (abs_bars x)) (abs_bars x)))",
        ),
        (r"$$L = \frac12 \|Ax - b\|_2^2$$", "(= L (* (/ 1 2) (^ (norm_2 (- (* A x) b)) 2)))"),
        (
            r"$$L = \|x\|^2_2 + \|x\|^2_1 + \|x\|^\top_F$$",
            "(= L (+ (+ (^ (norm_2 x) 2) (^ (norm_1 x) 2)) (' (norm2 x))))",
        ),
        (r"$$y = \left\| \left| x \right| \right\|$$", "(= y (norm2 (abs_bars x)))"),
        // Powers and transposes.
        (r"$$y = x^2 + x^{2} + x^{10} + x^23$$", "(= y (+ (+ (+ (^ x 2) (^ x 2)) (^ x 10)) (* (^ x 2) 3)))"),
        (r"$$y = A^{-1} + A^-1 + A^{-1}x$$", "(= y (+ (+ (^ A -1) (^ A -1)) (* (^ A -1) x)))"),
        (
            r"$$y = A^\top + A^{\top} + A^T + A^{T} + A^\intercal + A^{\mathsf{T}} + A' + A^{\intercal}$$",
            "(= y (+ (+ (+ (+ (+ (+ (+ (' A) (' A)) (' A)) (' A)) (' A)) (' A)) (' A)) (' A)))",
        ),
        (r"$$y = A^Tx$$", "(= y (* (' A) x))"),
        (r"$$y = x^\alpha + x^n + x^{n+1}$$", "(= y (+ (+ (^ x alpha) (^ x n)) (^ x (+ n 1))))"),
        (r"$$y = x^2'$$", "(= y (' (^ x 2)))"),
        (r"$$y = -x^2$$", "(= y (neg (^ x 2)))"),
        // Functions.
        (
            r"$$y = \tanh(x) + \exp(x) + \log x + \ln x + \sin x + \cos x + \tan x$$",
            "(= y (+ (+ (+ (+ (+ (+ (tanh x) (exp x)) (log x)) (log x)) (sin x)) (cos x)) (tan x)))",
        ),
        (r"$$y = \sqrt{x} + \sqrt x + \sqrt{x+1}$$", "(= y (+ (+ (sqrt x) (sqrt x)) (sqrt (+ x 1))))"),
        (r"$$y = \det X + \det X^{-1} + \det(X)$$", "(= y (+ (+ (det X) (det (^ X -1))) (det X)))"),
        (
            r"$$y = \operatorname{tr} X + \mathrm{tr}(X) + \text{tr} X + \operatorname{Tr} X + \mathrm{Tr}(X) + \tr X + tr(X)$$",
            "(= y (+ (+ (+ (+ (+ (+ (tr X) (tr X)) (tr X)) (tr X)) (tr X)) (tr X)) (tr X)))",
        ),
        (
            r"$$y = \operatorname{diag}(x) + \mathrm{diag}(x) + \operatorname{softmax}(x) + \mathrm{softmax}(x)$$",
            "(= y (+ (+ (+ (diag x) (diag x)) (softmax x)) (softmax x)))",
        ),
        (
            r"$$y = \operatorname{relu}(x) + ReLU(x) + \operatorname{ReLU}(x) + \operatorname{logsumexp}(x)$$",
            "(= y (+ (+ (+ (relu x) (relu x)) (relu x)) (logsumexp x)))",
        ),
        (r"$$y = \log\det X + \log \det(X)$$", "(= y (+ (logdet X) (logdet X)))"),
        (r"$$y = \exp\left(x\right) + \exp{x} + \exp\bigl(x\bigr)$$", "(= y (+ (+ (exp x) (exp x)) (exp x)))"),
        (r"$$y = \log x y$$", "(= y (log (* x y)))"),
        (r"$$y = \exp(x)^2$$", "(= y (^ (exp x) 2))"),
        (r"$$y = \sin^2 x$$", "(= y (^ (sin x) 2))"),
        (r"$$f = \operatorname{foo}(x, y)$$", "(= f (foo x y))"),
        (r"$$y = \sigma(Wx + b)$$", "(= y (sigmoid (+ (* W x) b)))"),
        // Macros people define for known functions.
        (r"$$y = \norm{x} + \abs{x} + \sum x + \diag(x)$$", "(= y (+ (+ (+ (norm2 x) (abs x)) (sum x)) (diag x)))"),
        // Brackets.
        (
            r"$$y = \left(A + B\right) x + \big(x\big) + \Big[x\Big] + \left\{ x \right\}$$",
            "(= y (+ (+ (+ (* (+ A B) x) x) x) x))",
        ),
        (r"$$y = \left. x \right.$$", "(= y x)"),
        // Spacing and punctuation.
        (r"$$y = A\,x\;b\!c\quad d\qquad e~f \: g\ h.$$", "(= y (* (* (* (* (* (* (* (* A x) b) c) d) e) f) g) h))"),
        (r"$$y = Ax,$$", "(= y (* A x))"),
        (r"$$y \coloneqq Ax$$", "(= y (* A x))"),
        (r"$$y := Ax$$", "(= y (* A x))"),
        (r"$$\displaystyle y = \frac{1}{2}x$$", "(= y (* (/ 1 2) x))"),
        // `%` comments.
        ("$$y = Ax % the linear layer\n$$", "(= y (* A x))"),
    ]);
}

#[test]
fn declarations_in_each_spelling() {
    check_all(&[
        ("x: vector(n)", "(: x (vector n))"),
        ("A, B: matrix(m, n)", "(: A B (matrix m n))"),
        ("c: scalar", "(: c scalar)"),
        ("c, d: scalar", "(: c d scalar)"),
        ("c: real", "(: c scalar)"),
        ("M: matrix(3, K)", "(: M (matrix 3 K))"),
        ("x: vector(d_model)", "(: x (vector d_model))"),
        ("x: vector(n), A: matrix(n, n)", "(: x (vector n)); (: A (matrix n n))"),
        ("x: ℝ^n", "(: x (vector n))"),
        ("sum: scalar", "(: sum scalar)"),
        ("x ∈ ℝ^K", "(: x (vector K))"),
        ("x ∈ ℝᴷ", "(: x (vector K))"),
        ("x ∈ ℝⁿ", "(: x (vector n))"),
        ("x ∈ ℝ³", "(: x (vector 3))"),
        ("A ∈ ℝᵐˣⁿ", "(: A (matrix m n))"),
        ("A ∈ ℝ³ˣ³", "(: A (matrix 3 3))"),
        ("A, B ∈ ℝ^{K×K}", "(: A B (matrix K K))"),
        ("A ∈ ℝ^(m×n)", "(: A (matrix m n))"),
        ("A ∈ ℝ^{m x n}", "(: A (matrix m n))"),
        ("A ∈ ℝ^{m, n}", "(: A (matrix m n))"),
        ("A ∈ ℝ^{K×1}", "(: A (matrix K 1))"),
        ("c ∈ ℝ", "(: c scalar)"),
        ("x ∈ R^n", "(: x (vector n))"),
        ("x ∈ ℝ^K, A, B ∈ ℝ^{K×K}", "(: x (vector K)); (: A B (matrix K K))"),
        ("θ ∈ ℝ^d", "(: theta (vector d))"),
        (r"x \in \mathbb{R}^k", "(: x (vector k))"),
        (r"x \in \mathbb{R^k}", "(: x (vector k))"),
        (r"A, B \in \mathbb{R}^{K \times K}", "(: A B (matrix K K))"),
        (r"A \in \mathbb R^{m\times n}", "(: A (matrix m n))"),
        (r"A \in \mathbb{R}^{mxn}", "(: A (matrix m n))"),
        (r"A \in \mathbb{R}^{m \times n}, b \in \mathbb{R}^{m}", "(: A (matrix m n)); (: b (vector m))"),
        (r"x \in \R^n", "(: x (vector n))"),
        (r"x \in \mathbf{R}^n", "(: x (vector n))"),
        (r"x \in \mathbb{R}^{n}, \quad A \in \mathbb{R}^{n \times 1}", "(: x (vector n)); (: A (matrix n 1))"),
        (r"x \in \mathbb{R}^{n}", "(: x (vector n))"),
        (r"x \in \mathbb{R}^{10}", "(: x (vector 10))"),
        (r"c \in \mathbb{R}", "(: c scalar)"),
        (r"\mathbf{W}_1 \in \mathbb{R}^{d_{out} \times d_{in}}", "(: W_1 (matrix d_out d_in))"),
        (r"\theta \in \mathbb{R}^d", "(: theta (vector d))"),
        (r"$x \in \mathbb{R}^k$, $A, B\in\mathbb{R}^{k\times k}$", "(: x (vector k)); (: A B (matrix k k))"),
    ]);
}

#[test]
fn statements_lines_and_continuations() {
    check_all(&[
        ("y = a; ; z = b;", "(= y a); (= z b)"),
        ("y = a\n\n  \nz = b", "(= y a); (= z b)"),
        ("y = a +\n  b", "(= y (+ a b))"),
        ("y = a\n  + b", "(= y (+ a b))"),
        ("y = a *\n\n b", "(= y (* a b))"),
        ("y = f(a,\n  b)", "(= y (f a b))"),
        ("y = (a\n + b)", "(= y (+ a b))"),
        ("y = a # comment $x$\nz = b % another", "(= y a); (= z b)"),
        ("y = a % MATLAB comment", "(= y a)"),
        (
            "x: vector(n)\ny = \\sigma(Ax) + 2\nz = A x",
            "(: x (vector n)); (= y (+ (sigmoid (* A x)) 2)); (= z (* A x))",
        ),
        ("\u{feff}y\u{a0}=\u{2009}a", "(= y a)"),
        (r"y = Ax \\ z = Bx", "(= y (* A x)); (= z (* B x))"),
    ]);
}

#[test]
fn documents() {
    check_document(
        "We have\n\\[ y = Ax \\]\nand then $$u = \\sigma(y)$$ done.",
        "(= y (* A x)); (= u (sigmoid y))",
        &["We have", "and then", "done."],
    );
    check_document(
        r"\begin{align}
y &= Ax \\
u &= \sigma(y) \label{eq:u} \\
v &= Bx \nonumber \\
L &= \|u\|^2 \notag \tag{4} \\
  &\quad + \|v\|^2 \\
\intertext{and finally}
c &= L\hspace{1em}.
\end{align}",
        "(= y (* A x)); (= u (sigmoid y)); (= v (* B x)); (= L (+ (^ (norm2 u) 2) (^ (norm2 v) 2))); (= c L)",
        &[],
    );
    for environment in ["align*", "equation", "equation*", "gather", "gather*", "aligned"] {
        check_document(
            &format!("Model: \\begin{{{environment}}} y = Ax \\end{{{environment}}}"),
            "(= y (* A x))",
            &["Model:"],
        );
    }
    check_document(r"$$\begin{aligned} y &= Ax \\ z &= By \end{aligned}$$", "(= y (* A x)); (= z (* B y))", &[]);
    check_document(r"$$\begin{equation} y = Ax \end{equation}$$", "(= y (* A x))", &[]);
    // Inline math that declares over the reals is used; other inline math is prose.
    check_document(
        r"Let $x \in \mathbb{R}^n$ be given and $i \in S$, $y = 3$. Then $$y = Ax.$$",
        "(: x (vector n)); (= y (* A x))",
        &["Let", r"be given and $i \in S$, $y = 3$. Then"],
    );
    // Display math that is neither an assignment nor a declaration is recorded as ignored.
    check_document(
        r"Find $$\frac{\partial L}{\partial W}$$ where $$L = \|Wx\|^2$$",
        "(= L (^ (norm2 (* W x)) 2))",
        &["Find", r"\frac{\partial L}{\partial W}", "where"],
    );
    check_document(r"$$x \in \mathbb{R}^n; y = Ax$$", "(: x (vector n)); (= y (* A x))", &[]);
    check_document(r"\(x \in \mathbb{R}^n\) and $$y = Ax$$", "(: x (vector n)); (= y (* A x))", &["and"]);
    check_document(r"It costs \$5. $$y = Ax$$", "(= y (* A x))", &[r"It costs \$5."]);
    check_document("Price: $5 and $$y = Ax$$", "(= y (* A x))", &["Price: $5 and"]);
    // Newlines inside display math are spaces.
    check_document("$$\ny = A\n  x\n$$", "(= y (* A x))", &[]);
}

#[test]
fn spans_point_into_the_original_text() {
    let source = "Text $$y = Ax$$";
    let program = parse(source).expect("parses");
    let Item::Assign { name, value, span } = &program.items[0] else { panic!("not an assignment") };
    assert_eq!(&source[name.span.range()], "y");
    assert_eq!(&source[span.range()], "y = Ax");
    assert_eq!(&source[value.span.range()], "Ax");
    let ExprKind::Binary(_, a, x) = &value.kind else { panic!("not a product") };
    assert_eq!((&source[a.span.range()], &source[x.span.range()]), ("A", "x"));
    assert_eq!(&source[program.ignored[0].range()], "Text");

    let source = "u = sigmoid(y) + ‖w‖₁";
    let program = parse(source).expect("parses");
    let Item::Assign { value, .. } = &program.items[0] else { panic!("not an assignment") };
    let ExprKind::Binary(_, call, norm) = &value.kind else { panic!("not a sum") };
    let ExprKind::Call { name_span, .. } = &call.kind else { panic!("not a call") };
    assert_eq!(&source[name_span.range()], "sigmoid");
    assert_eq!(&source[call.span.range()], "sigmoid(y)");
    assert_eq!(&source[norm.span.range()], "‖w‖₁");

    let source = "A, B: matrix(m, 3)";
    let program = parse(source).expect("parses");
    let Item::Declare { names, ty: TypeSpec::Matrix(m, three), span } = &program.items[0] else {
        panic!("not a matrix declaration")
    };
    assert_eq!(&source[span.range()], source);
    assert_eq!(&source[names[1].span.range()], "B");
    assert_eq!((&source[m.span.range()], &source[three.span.range()]), ("m", "3"));
}

#[test]
fn errors() {
    let rows: &[(&str, &str, (usize, usize))] = &[
        // The examples of the specification.
        ("y = A*", "expected an expression after `*`, found end of line", (5, 6)),
        ("y = (A*x", "unclosed `(`", (4, 5)),
        ("= A*x", "expected a name before `=`", (0, 1)),
        ("y = A @ x", "unexpected character `@`", (6, 7)),
        ("2 = x", "can only assign to a name", (0, 1)),
        (r"$$y = \foo x$$", r"unknown LaTeX command `\foo`", (6, 10)),
        ("x: vektor(n)", "unknown type `vektor`", (3, 9)),
        ("x: matrix(n)", "matrix takes two sizes (rows, columns)", (3, 12)),
        ("y = 1e999", "number too large", (4, 9)),
        // Empty programs.
        ("", "empty program: no statements", (0, 0)),
        ("  \n # just a comment\n", "empty program: no statements", (0, 0)),
        // A lone `$` does not make a document: this is a program with no statement.
        ("Some prose with $5 in it.", "empty program: no statements", (0, 25)),
        ("hello world", "empty program: no statements", (0, 11)),
        // Expressions.
        ("y = A +", "expected an expression after `+`, found end of line", (6, 7)),
        ("y = A*; z = 1", "expected an expression after `*`, found `;`", (5, 6)),
        ("y = )", "expected an expression after `=`, found `)`", (4, 5)),
        ("y = A**x", "expected an expression after `*`, found `*`", (6, 7)),
        ("y = A)", "unmatched `)`", (5, 6)),
        ("y = (A]", "expected `)` to close `(`, found `]`", (6, 7)),
        ("y = |x", "unclosed `|`", (4, 5)),
        ("y = ‖x", "unclosed `‖`", (4, 7)),
        ("y = ‖x + ‖", "unclosed `‖`", (11, 14)),
        ("y = ‖x + ", "unclosed `‖`", (4, 7)),
        ("y = A^", "expected an exponent after `^`, found end of line", (5, 6)),
        ("y = f(a,", "unclosed `(`", (5, 6)),
        ("y = x.", "unexpected `.`", (5, 6)),
        ("y = a ≤ b", "unexpected character `≤`", (6, 9)),
        ("y = A x = 3", "unexpected `=`: a statement assigns one name", (8, 9)),
        ("y = A +\nz = 3", "unexpected `=`: a statement assigns one name", (10, 11)),
        ("y = (A*x\nz = B", "unclosed `(`", (4, 5)),
        ("y", "empty program: no statements", (0, 1)),
        ("x = 1\nA*x", "expected a statement, found an expression", (6, 9)),
        ("x = 1\ny", "expected `=` after `y`", (6, 7)),
        ("x + y = 2", "can only assign to a name", (0, 5)),
        ("y = ‖x‖_3", "unsupported norm `‖·‖_3`", (12, 13)),
        ("y = x & z", "unexpected `&`", (6, 7)),
        ("y = ²", "expected an expression after `=`, found `²`", (4, 6)),
        ("y = ⊤", "expected an expression after `=`, found `⊤`", (4, 7)),
        // Declarations.
        ("x: vector(0)", "a size must be positive", (10, 11)),
        ("x: vector(2.5)", "a size must be a whole number, not `2.5`", (10, 13)),
        ("x: vector(m, n)", "vector takes one size (its length)", (3, 15)),
        ("x: vector", "expected `(` after `vector`, found end of line", (3, 9)),
        ("x: vector(n", "unclosed `(`", (9, 10)),
        ("x: scalar(3)", "`scalar` takes no size", (3, 9)),
        ("x:", "expected a type after `:`, found end of line", (1, 2)),
        ("x, : vector(n)", "expected a name after `,`, found `:`", (3, 4)),
        (": vector(n)", "expected a name before `:`", (0, 1)),
        ("x ∈ S", "unknown type `S`", (6, 7)),
        ("x ∈ ℝ^", "expected a size after `^`, found end of line", (9, 10)),
        ("x ∈ ℝ^{K×K", "unclosed `{`", (10, 11)),
        ("A ∈ ℝ^{a×b×c}", "a space has at most two sizes (rows × columns)", (10, 19)),
        ("x ∈ ℝ^K y", "unexpected `y`", (12, 13)),
        (r"x \in \mathbb{Z}^n", "expected `R` after `\\mathbb`, found `Z`", (14, 15)),
        ("2 ∈ ℝ", "expected a name to declare", (0, 1)),
        (", x: scalar", "expected a name to declare, found `,`", (0, 1)),
        // LaTeX.
        (r"$$y = \frac{a}$$", r"expected a denominator after `\frac`, found `$$`", (6, 11)),
        (r"$$y = \exp$$", r"expected an argument after `\exp`, found `$$`", (6, 10)),
        (r"$$y = \sqrt[3]{x}$$", r"`\sqrt[n]{…}` (an n-th root) is not supported", (11, 12)),
        (r"$$y = \fracc{a}{b}$$", r"unknown LaTeX command `\fracc`", (6, 12)),
        (r"$$y = \partial x$$", r"unknown LaTeX command `\partial`", (6, 14)),
        (r"$$y = \$ x$$", r"unknown LaTeX command `\$`", (6, 8)),
        (r"$$A = \begin{bmatrix} 1 & 2 \end{bmatrix}$$", "unsupported LaTeX environment `bmatrix`", (6, 21)),
        (r"$$y = \hat{a+b}$$", r"`\hat` must be put on a single name, as in `\hat{y}`", (10, 15)),
        (r"$$y = \mathbb{R}$$", r"`\mathbb` only appears in a type, as in `x \in \mathbb{R}^n`", (6, 13)),
        (r"$$y = \operatorname{}x$$", r"expected a name inside `\operatorname{…}`", (6, 21)),
        (r"$$y = W_{}$$", "empty subscript", (8, 10)),
        (r"$$y = A \\ = B$$", "expected a name before `=`", (11, 12)),
        (r"$$y = Ax \\ z = By = C$$", "unexpected `=`: a statement assigns one name", (19, 20)),
        (r"$$y = \tanh^{-1}(x)$$", r"`\tanh^{-1}` (an inverse function) is not supported", (6, 16)),
        (r"$$y = W^{(x^2)} x$$", "a superscript in parentheses would read as a power", (7, 8)),
        (r"$$y = x_{t-1}$$", "unsupported subscript: expected letters or digits, found `-`", (10, 11)),
        // Documents.
        ("$$y = Ax", "unterminated `$$`", (0, 2)),
        (r"Text \[ y = Ax", r"unterminated `\[`", (5, 7)),
        (r"\begin{align} y = Ax", r"unterminated `\begin{align}`", (0, 13)),
        ("$$y = A @ x$$", "unexpected character `@`", (8, 9)),
        // Notation.
        ("y = 1/2 x", "`1/2 x` is ambiguous: the division may end before the product or after it", (4, 9)),
        (r"$$y = a / bc$$", "`a / bc` is ambiguous: the division may end before the product or after it", (6, 12)),
        ("y = x/2·y", "`x/2·y` is ambiguous: the division may end before the product or after it", (4, 10)),
        ("y = 1.2.3", "malformed number `1.2.3`", (4, 9)),
        ("y = 2.5.", "malformed number `2.5.`", (4, 8)),
        ("y = 1..2", "malformed number `1..2`", (4, 8)),
        ("y = 1e-3.5", "malformed number `1e-3.5`", (4, 10)),
        (r"$$y = 1.2.3 x$$", "malformed number `1.2.3`", (6, 11)),
        ("y = a\u{200b}b", "unexpected character `\\u{200b}`", (5, 8)),
        ("y = a\u{feff}", "unexpected character `\\u{feff}`", (5, 8)),
        ("y = a\u{2060}", "unexpected character `\\u{2060}`", (5, 8)),
        ("y = a\u{1}", "unexpected character `\\u{1}`", (5, 6)),
        ("y = ⟨x y⟩", "expected `,` inside `⟨…`, found `⟩`", (10, 13)),
        ("y = ⟨x, y", "unclosed `⟨`", (4, 7)),
        (r"$$y = W^{(1)2}$$", "a superscript in parentheses would read as a power", (7, 8)),
        (r"$$y = \mathbb{R} x$$", r"`\mathbb` only appears in a type, as in `x \in \mathbb{R}^n`", (6, 13)),
    ];
    for (input, message, span) in rows {
        check_error(input, message, *span);
    }
}

#[test]
fn hints() {
    let hint = |input: &str| parse(input).err().and_then(|e| e.hint).unwrap_or_default();
    assert_eq!(hint("y = (A*x"), "add `)`");
    assert_eq!(hint("x: vektor(n)"), "did you mean `vector`?");
    assert_eq!(hint(r"$$y = \fracc{a}{b}$$"), r"did you mean `\frac`?");
    assert_eq!(hint(r"$$y = \sigam(x)$$"), r"did you mean `\sigma`?");
    assert!(hint(r"$$y = \foo x$$").contains(r"`\frac`"));
    assert_eq!(hint("y = A**x"), "write powers with `^`, as in `x^2`");
    assert_eq!(hint("$$y = Ax"), "add a closing `$$`");
    assert!(hint("").contains("y = A*x"));
    assert!(hint("y = A +\nz = 3").contains("continues"));
    assert_eq!(hint("y = 1/2 x"), "write `(1/2) x` or `1/(2 x)`");
    assert_eq!(hint(r"$$y = 1/2x$$"), "write `(1/2)x` or `1/(2x)`");
    assert_eq!(hint("y = a / b c d"), "write `(a / b) c d` or `a / (b c d)`");
    assert_eq!(hint("y = x/2·y"), "write `(x/2)·y` or `x/(2·y)`");
    assert!(hint("y = 1.2.3").contains("one decimal point"));
}

/// A small deterministic generator (xorshift), so the random tests need no dependency and
/// fail the same way every time.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parsing and printing must not panic; a successful parse must give spans inside the text.
fn survives(input: &str) {
    if let Ok(program) = parse(input) {
        let _ = sexpr(&program);
        for span in &program.ignored {
            assert!(input.get(span.range()).is_some(), "bad ignored span {span:?} in {input:?}");
        }
        for item in &program.items {
            let span = match item {
                Item::Assign { span, .. } | Item::Declare { span, .. } => span,
            };
            assert!(input.get(span.range()).is_some(), "bad span {span:?} in {input:?}");
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let length = random.below(48);
        let bytes: Vec<u8> = (0..length).map(|_| random.next() as u8).collect();
        survives(&String::from_utf8_lossy(&bytes));
    }
}

/// Fragments of every spelling, for random and repeated inputs.
const PIECES: &[&str] = &[
    "y",
    "x",
    "A",
    "Ax",
    "W_1",
    "x_",
    "=",
    "*",
    ".*",
    "./",
    "/",
    "^",
    ".^",
    "+",
    "-",
    "−",
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    "||",
    "‖",
    ",",
    ";",
    ":",
    "\n",
    " ",
    "2",
    ".5",
    "1e999",
    "23",
    "sigmoid",
    "exp",
    "tr",
    "ReLU",
    "vector",
    "matrix",
    "scalar",
    "(n)",
    "(m, n)",
    "∈",
    "ℝ",
    "R",
    "^{K×K}",
    "ᵀ",
    "²",
    "⁻¹",
    "ⁿ",
    "₁",
    "σ",
    "α",
    "√",
    "⊙",
    "·",
    "×",
    "⊤",
    "$",
    "$$",
    r"\[",
    r"\]",
    r"\begin{align}",
    r"\end{align}",
    r"\begin{",
    "&",
    "&=",
    r"\\",
    r"\frac",
    r"\sqrt",
    r"\sigma",
    r"\alpha",
    r"\left(",
    r"\right)",
    r"\left",
    r"\|",
    r"\|_2",
    r"\lVert",
    r"\mathbb{R}",
    r"\mathbb{R^k}",
    r"\mathbb",
    r"\in",
    r"\top",
    r"\hat",
    r"\mathbf",
    r"\operatorname",
    r"\mathrm{tr}",
    r"\text{",
    r"\log\det",
    r"\cdot",
    r"\,",
    r"\quad",
    r"\label{",
    r"\foo",
    "\\",
    "_",
    "_{",
    "#",
    "%",
    "@",
    "~",
    ".",
    "\u{a0}",
    "\u{feff}",
    "ᵐˣⁿ",
    "₁₂",
    // Macros, and what documents read around equations.
    r"\def\a",
    r"\def\b#1{",
    r"\def\c#1#2{\c",
    "#1",
    "#2",
    r"\a",
    r"\b",
    r"\c{x}",
    r"\newcommand{\d}[2][",
    r"\renewcommand\a{",
    r"\DeclareMathOperator{\e}{",
    r"\eqalign{",
    r"{\rm ",
    r"\color{red}",
    r"\boxed{",
    r"\implies",
    r"\qquad",
    r"\tfrac12",
    r"\partial",
    "d",
    "dL",
    "\r",
    "\r\n",
];

#[test]
fn random_token_soups_never_panic() {
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    for _ in 0..20_000 {
        let count = random.below(24);
        let input: String = (0..count).map(|_| PIECES[random.below(PIECES.len())]).collect();
        survives(&input);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep =
        |open: &str, middle: &str, close: &str, n: usize| format!("y = {}{middle}{}", open.repeat(n), close.repeat(n));
    let message = |input: &str| parse(input).err().map(|e| e.message).unwrap_or_default();
    let too_deep = crate::syntax::too_deep_message();
    for input in [
        deep("(", "x", ")", 100_000),
        deep("(", "", "", 100_000),
        deep("[", "x", "]", 100_000),
        deep("{", "x", "}", 100_000),
        deep("-", "x", "", 100_000),
        deep("‖", "x", "‖", 100_000),
        deep("sigmoid(", "x", ")", 100_000),
        deep("exp ", "x", "", 100_000),
        deep("√", "x", "", 100_000),
        deep("x^-", "1", "", 100_000),
        deep("", "x", "'", 100_000),
        deep("", "x", "²'", 100_000),
        deep("x+", "x", "", 100_000),
        deep("x ", "x", "", 100_000),
        deep(r"\hat", "x", "", 100_000),
        deep(r"\sqrt{", "x", "}", 100_000),
        deep(r"\frac", "12", "", 100_000),
        deep(r"\frac{", "1", "}{2}", 100_000),
        deep(r"\exp ", "x", "", 100_000),
        deep(r"x^", "1", "", 100_000),
        format!("$$y = {}x$$", r"\mathbf{".repeat(100_000)),
    ] {
        let start: String = input.chars().take(20).collect();
        assert_eq!(message(&input), too_deep, "input starting {start:?}");
    }
    // Just inside the limit is fine.
    check(&deep("(", "x", ")", MAX_DEPTH - 2), "(= y x)");
    assert!(parse(&format!("y = x{}", "+x".repeat(MAX_DEPTH - 1))).is_ok());
}

#[test]
fn long_runs_of_each_piece_never_panic() {
    // Long runs find recursion (in the lexer as well as the parser) and quadratic scans.
    for piece in PIECES {
        let run = piece.repeat(20_000);
        survives(&run);
        survives(&format!("y = {run}"));
        survives(&format!("$$y = {run}$$"));
    }
}

#[test]
fn long_inputs_stay_fast() {
    // Splitting a long LaTeX word letter by letter must not be quadratic.
    let word = "a".repeat(200_000);
    let input = format!("y = \\alpha + {word}");
    assert_eq!(parse(&input).err().map(|e| e.message), Some(crate::syntax::too_deep_message()));
    let statements = "y = a b c d e f\n".repeat(20_000);
    assert_eq!(parse(&statements).map(|p| p.items.len()), Ok(20_000));
}

#[test]
fn precedence_as_mathematicians_write_it() {
    check_all(&[
        // Juxtaposition and `·` bind tighter than the elementwise products.
        ("y = M ⊙ A B", "(= y (.* M (* A B)))"),
        ("y = u ⊙ A x", "(= y (.* u (* A x)))"),
        ("y = u ∘ A x", "(= y (.* u (* A x)))"),
        ("y = A x ⊙ u", "(= y (.* (* A x) u))"),
        ("y = u ⊙ A·x", "(= y (.* u (· A x)))"),
        ("y = u ⊘ A x", "(= y (./ u (* A x)))"),
        (r"$$y = M \odot AB$$", "(= y (.* M (* A B)))"),
        (r"$$y = u \circ Ax$$", "(= y (.* u (* A x)))"),
        (r"$$y = u * Ax$$", "(= y (.* u (* A x)))"),
        (r"$$y = u \oslash Ax$$", "(= y (./ u (* A x)))"),
        (r"$$y = x^\top A \cdot B y$$", "(= y (* (· (* (' x) A) B) y))"),
        // ASCII keeps one level for `*`, `.*`, `./`, `/`; juxtaposition is tighter.
        ("y = A*x.*u", "(= y (.* (* A x) u))"),
        ("y = u.*A x", "(= y (.* u (* A x)))"),
        ("y = a*b/c.*d./e", "(= y (./ (.* (/ (* a b) c) d) e))"),
        ("y = 2*A x", "(= y (* 2 (* A x)))"),
        // The Frobenius product: looser than the products, tighter than `+`.
        ("y = A : B", "(= y (: A B))"),
        ("y = 2w : dw", "(= y (: (* 2 w) dw))"),
        ("y = (U - U^2)q:dy", "(= y (: (* (- U (^ U 2)) q) dy))"),
        ("y = P:dA + r:dv", "(= y (+ (: P dA) (: r dv)))"),
        ("y = 2 v ⊙ p : du", "(= y (: (.* (* 2 v) p) du))"),
        ("y = A.*B : C", "(= y (: (.* A B) C))"),
        ("y = (A : B) x", "(= y (* (: A B) x))"),
        (r"$$y = A : B + 2 W : V$$", "(= y (+ (: A B) (: (* 2 W) V)))"),
        ("y = ⟨x, y⟩ + ⟨A x, b⟩", "(= y (+ (: x y) (: (* A x) b)))"),
        (r"$$y = \langle x, y \rangle + \left\langle W, V \right\rangle$$", "(= y (+ (: x y) (: W V)))"),
        // A top-level `:` without `=` is still a declaration.
        ("x: vector(n)\ny = x : x", "(: x (vector n)); (= y (: x x))"),
        // `/` with a bracketed or single right operand.
        ("y = 1/(2 x)", "(= y (/ 1 (* 2 x)))"),
        ("y = (1/2) x", "(= y (* (/ 1 2) x))"),
        ("y = x/2 + y", "(= y (+ (/ x 2) y))"),
        ("y = 2x/3", "(= y (/ (* 2 x) 3))"),
        ("y = 1/2*x", "(= y (* (/ 1 2) x))"),
        // Unary minus keeps its level.
        ("y = -A x", "(= y (* (neg A) x))"),
        ("y = -u ⊙ v", "(= y (.* (neg u) v))"),
    ]);
}

#[test]
fn functions_without_parentheses() {
    check_all(&[
        (r"$$y = \exp x^\top y$$", "(= y (exp (* (' x) y)))"),
        (r"$$y = \log \det X$$", "(= y (logdet X))"),
        (r"$$y = \log \sqrt x$$", "(= y (log (sqrt x)))"),
        (r"$$y = \sin 2x$$", "(= y (sin (* 2 x)))"),
        (r"$$y = \exp -x$$", "(= y (exp (neg x)))"),
        (r"$$y = \exp -x y$$", "(= y (exp (* (neg x) y)))"),
        (r"$$y = \log x + y$$", "(= y (+ (log x) y))"),
        (r"$$y = \log x - y$$", "(= y (- (log x) y))"),
        (r"$$y = \exp x \odot y$$", "(= y (.* (exp x) y))"),
        (r"$$y = \exp x * y$$", "(= y (.* (exp x) y))"),
        (r"$$y = \exp x / 2$$", "(= y (/ (exp x) 2))"),
        (r"$$y = \exp x : y$$", "(= y (: (exp x) y))"),
        (r"$$y = \sin(x) y$$", "(= y (* (sin x) y))"),
        (r"$$y = \sin (x) y$$", "(= y (* (sin x) y))"),
        (r"$$y = \sin x \cos y$$", "(= y (* (sin x) (cos y)))"),
        (r"$$y = \tanh W x + b$$", "(= y (+ (tanh (* W x)) b))"),
        (r"$$y = \sin^2 x y$$", "(= y (^ (sin (* x y)) 2))"),
        (r"$$y = \log x^2$$", "(= y (log (^ x 2)))"),
        (r"$$y = \operatorname{tr} A B$$", "(= y (tr (* A B)))"),
        ("y = exp x y", "(= y (exp (* x y)))"),
        ("y = exp x + y", "(= y (+ (exp x) y))"),
        ("y = log x^2", "(= y (log (^ x 2)))"),
        ("y = exp x*y", "(= y (* (exp x) y))"),
        ("y = exp x ⊙ y", "(= y (.* (exp x) y))"),
        ("y = tanh W x", "(= y (tanh (* W x)))"),
        ("y = sin x cos y", "(= y (* (sin x) (cos y)))"),
        ("y = σ y", "(= y (sigma y))"),
        ("y = σ W x + b", "(= y (+ (sigma (* W x)) b))"),
        (r"$$y = \sigma Wx + b$$", "(= y (+ (sigma (* W x)) b))"),
        ("y = σ(y) z", "(= y (* (sigmoid y) z))"),
        // Touching `σy` in ASCII is a product, as before.
        ("y = σy", "(= y (* sigma y))"),
    ]);
}

#[test]
fn constants_and_special_names() {
    check_all(&[
        // `e^x` and `I` stay names here; the lowering decides what they are.
        (r"$$y = e^{x} + e^x + \mathrm{e}^{-x}$$", "(= y (+ (+ (^ e x) (^ e x)) (^ e (neg x))))"),
        ("y = e^x", "(= y (^ e x))"),
        (r"$$Y = A + I + \mathbf{I} + \mathbb{I} + I_n + I_3$$", "(= Y (+ (+ (+ (+ (+ A I) I) I) I_n) I_3))"),
        ("Y = A + 𝕀 + I + I_3 + 𝕀_n", "(= Y (+ (+ (+ (+ A I) I) I_3) I_n))"),
        (r"$$Y = \mathbf{I}_n + \boldsymbol{I}$$", "(= Y (+ I_n I))"),
        (r"$$y = \mathbf{1} + \mathbb{1} + \boldsymbol{1} + \bm 1 + \mathbbm{1}$$", "(= y (+ (+ (+ (+ 𝟙 𝟙) 𝟙) 𝟙) 𝟙))"),
        ("y = 𝟙 + x", "(= y (+ 𝟙 x))"),
        // A length written on 𝟙: a size's name or a number, touching it in plain text.
        ("Y = 𝟙ₙ 𝟙ₖᵀ + 𝟙_K 𝟙_3ᵀ + 𝟙₁₂ 𝟙_{N}'", "(= Y (+ (+ (* 𝟙_n (' 𝟙_k)) (* 𝟙_K (' 𝟙_3))) (* 𝟙_12 (' 𝟙_N))))"),
        (
            r"$$Y = \mathbf{1}_n \mathbf{1}_{k}^\top + \mathbb{1}_3 \boldsymbol{1}_K^T$$",
            "(= Y (+ (* 𝟙_n (' 𝟙_k)) (* 𝟙_3 (' 𝟙_K))))",
        ),
        (
            r"$$y = \mathbf{W}_1 \mathbf{x} + \pmb{b} + \mathcal{L}$$",
            "(= y (+ (+ (* (bold W_1) (bold x)) (bold b)) L))",
        ),
        (r"$$\mathbf{y} = \mathbf{A}\mathbf{x}$$", "(= y (* (bold A) (bold x)))"),
        (r"$$\hat{\mathbf{y}} = x$$", "(= yhat x)"),
        (r"\mathbf{x} \in \mathbb{R}^n", "(: x (vector n))"),
        // Elementwise division.
        ("y = u ⊘ v", "(= y (./ u v))"),
        (r"$$y = u \oslash v$$", "(= y (./ u v))"),
        // Derivatives of elementwise functions.
        ("y = σ'(z) + σ′(z)", "(= y (+ (sigmoid' z) (sigmoid' z)))"),
        (
            r"$$y = \sigma'(z) + \sigma^\prime(z) + \sigma^{\prime}(z)$$",
            "(= y (+ (+ (sigmoid' z) (sigmoid' z)) (sigmoid' z)))",
        ),
        (r"$$y = \tanh'(x) + \exp'(x) + ReLU'(x)$$", "(= y (+ (+ (tanh' x) (exp' x)) (relu' x)))"),
        ("y = sigmoid'(y) + relu'(x) + tanh'(x)", "(= y (+ (+ (sigmoid' y) (relu' x)) (tanh' x)))"),
        // A prime after a name or a call is a transpose.
        ("y = A'", "(= y (' A))"),
        ("y = σ(y)'", "(= y (' (sigmoid y)))"),
        ("y = A'(x)", "(= y (* (' A) x))"),
        (r"$$y = \sigma(y)'$$", "(= y (' (sigmoid y)))"),
        // Fractions.
        (
            r"$$y = \frac12 x + \tfrac 12 x + \dfrac{1}{2} x + \frac1n x$$",
            "(= y (+ (+ (+ (* (/ 1 2) x) (* (/ 1 2) x)) (* (/ 1 2) x)) (* (/ 1 n) x)))",
        ),
        ("y = ½ x + ¾ + ⅓", "(= y (+ (+ (* (/ 1 2) x) (/ 3 4)) (/ 1 3)))"),
        ("y = ½‖x‖²", "(= y (* (/ 1 2) (^ (norm2 x) 2)))"),
        // Trace and diag spellings.
        (
            r"$$y = \operatorname{Tr}(A) + \mathrm{tr}(A) + \text{tr}(A) + \operatorname{trace}(A) + \mathrm{Tr} A$$",
            "(= y (+ (+ (+ (+ (tr A) (tr A)) (tr A)) (tr A)) (tr A)))",
        ),
        ("y = trace(A) + tr(A)", "(= y (+ (tr A) (tr A)))"),
        ("D = Diag(x) + diag(x) + DIAG(x)", "(= D (+ (+ (diag x) (diag x)) (diag x)))"),
        (r"$$D = \operatorname{Diag}(x) + \mathrm{diag}(x)$$", "(= D (+ (diag x) (diag x)))"),
        // Layer indices are part of a name.
        (r"$$h^{(1)} = W^{(1)} x + b^{(1)}$$", "(= h^(1) (+ (* W^(1) x) b^(1)))"),
        (
            r"$$y = \theta^{(1)} + h^{(l)} + h^{(l+1)} + W_2^{(1)} + W^{(1)}_2$$",
            "(= y (+ (+ (+ (+ theta^(1) h^(l)) h^(l+1)) W_2^(1)) W_2^(1)))",
        ),
        ("h^{(1)} = W^{(1)}*x", "(= h^(1) (* W^(1) x))"),
        ("y = W⁽¹⁾ x + h⁽ˡ⁾", "(= y (+ (* W^(1) x) h^(l)))"),
        ("y = x^(n+1) + x^(2)", "(= y (+ (^ x (+ n 1)) (^ x 2)))"),
        (r"W^{(1)} \in \mathbb{R}^{m \times n}", "(: W^(1) (matrix m n))"),
        ("W^{(1)}: matrix(m, n)", "(: W^(1) (matrix m n))"),
        // Unicode the printers write.
        ("Y = X^∘2 + X⁻ᵀ", "(= Y (+ (.^ X 2) (' (^ X -1))))"),
        ("y = (x^∘4)^∘2 + x^{∘3}", "(= y (+ (.^ (.^ x 4) 2) (.^ x 3)))"),
        // The Hadamard power as LaTeX writes it.
        (r"$$Y = A^{\circ 2} + B^{\odot -1} + C^{\circ (k+1)}$$", "(= Y (+ (+ (.^ A 2) (.^ B -1)) (.^ C (+ k 1))))"),
        // A byte-order mark at the start is not text.
        ("\u{feff}y = a", "(= y a)"),
        // `2.` at the end of a sentence, `1.*x`, are fine.
        (r"$$y = 2x + 2.$$", "(= y (+ (* 2 x) 2))"),
        ("y = 1.*x + 2.5.*x", "(= y (+ (.* 1 x) (.* 2.5 x)))"),
    ]);
}

/// An aside as `Kind: side | side`, with the text of each side (an empty first side for a
/// continuation row).
fn aside(source: &str, aside: &Aside) -> String {
    let sides: Vec<&str> = aside.sides.iter().map(|span| &source[span.range()]).collect();
    format!("{:?}: {}", aside.kind, sides.join(" | "))
}

/// Checks a document's statements (as S-expressions) and its asides.
#[track_caller]
fn check_reading(input: &str, expected: &str, asides: &[&str]) {
    check(input, expected);
    let program = parse(input).expect("checked above");
    let found: Vec<String> = program.asides.iter().map(|a| aside(input, a)).collect();
    assert_eq!(found, asides, "asides of {input:?}");
}

#[test]
fn macros_of_documents() {
    let rows: &[(&str, &str, &[&str])] = &[
        // No parameter, defined in inline math.
        (r"$\def\s{\sigma}$ $$u = \s(y)$$", "(= u (sigmoid y))", &[]),
        // One parameter, defined in the display block that uses it.
        (r"$$\def\LR#1{\left(#1\right)} z = A\LR{u+v}$$", "(= z (* A (+ u v)))", &[]),
        // Two parameters, and a macro using another.
        (
            r"$\def\p{\partial}\def\grad#1#2{\frac{\p #1}{\p #2}}$ $$y = Ax$$ $$\grad{L}{A} = 2A$$",
            "(= y (* A x))",
            &[r"Derivative: \grad{L}{A} | 2A"],
        ),
        (
            r"$\newcommand{\dv}[1]{\operatorname{d}\!{#1}}$ $$L = x^Tx$$ $$\frac{\dv{L}}{\dv{x}} = 2x$$",
            "(= L (* (' x) x))",
            &[r"Derivative: \frac{\dv{L}}{\dv{x}} | 2x"],
        ),
        (r"$\newcommand\foo{Ax}$ $$y = \foo$$", "(= y (* A x))", &[]),
        (r"$\newcommand*{\foo}{Ax}$ $$y = \foo$$", "(= y (* A x))", &[]),
        (r"$\newcommand{\a}{x}\renewcommand{\a}{z}$ $$y = A\a$$", "(= y (* A z))", &[]),
        (r"$\newcommand{\a}{x}\providecommand{\a}{z}\providecommand{\b}{B}$ $$y = \b\a$$", "(= y (* B x))", &[]),
        // An optional first argument with a default.
        (
            r"$\newcommand{\n}[2][2]{\|#2\|^{#1}}$ $$L = \n{w} + \n[1]{v}$$",
            "(= L (+ (^ (norm2 w) 2) (^ (norm2 v) 1)))",
            &[],
        ),
        (r"$\DeclareMathOperator{\Tr}{Tr}$ $$s = \Tr(A)$$", "(= s (tr A))", &[]),
        (r"$\DeclareMathOperator*{\Diag}{Diag}$ $$D = \Diag(x)$$", "(= D (diag x))", &[]),
        // A definition in a display block applies from there on, also in later blocks.
        (
            r"$$y = Ax \\ \def\s{\sigma} u = \s(y)$$ $$v = \s(u)$$",
            "(= y (* A x)); (= u (sigmoid y)); (= v (sigmoid u))",
            &[],
        ),
        // A macro expanding to an arrow separates two equations.
        (r"$\def\qiq{\quad\implies\quad}$ $$y = Ax \qiq dy = A\,dx$$", "(= y (* A x))", &[r"Differential: dy | A\,dx"]),
        // Unknown macros in prose (inline math that declares nothing) are ignored.
        (r"Let $\weird{x} = 2$ be. $$y = Ax$$", "(= y (* A x))", &[]),
    ];
    for (input, expected, asides) in rows {
        check_reading(input, expected, asides);
    }
    let errors: &[(&str, &str, (usize, usize))] = &[
        // A macro that never finishes is an error at its use, not a hang.
        (r"$\def\a{\a}$ $$y = \a$$", r"the macro `\a` does not finish expanding", (19, 21)),
        (r"$\def\a{x + \a}$ $$y = \a$$", r"the macro `\a` does not finish expanding", (23, 25)),
        // An unknown macro in a model statement is an error that names it, at the use
        // when it comes from a macro's body.
        (r"$\def\a{\foo x}$ $$y = \a$$", r"unknown LaTeX command `\foo`", (23, 25)),
        // A use before the definition is unknown.
        (r"$$u = \s(y)$$ $\def\s{\sigma}$", r"unknown LaTeX command `\s`", (6, 8)),
        (r"$$\def\LR#1{(#1)} y = \LR$$", r"missing argument of the macro `\LR`", (22, 25)),
        (r"$$\def\a#1{#2} y = \a{x}$$", r"`#2` in the definition of `\a`, which takes 1 argument", (11, 13)),
        (r"$$\def\a{x y = 2$$", "unclosed `{`", (8, 9)),
    ];
    for (input, message, span) in errors {
        check_error(input, message, *span);
    }
    // A use that cannot expand is an error only in a statement: asides and prose are
    // never errors.
    check_reading(
        r"$\def\a{\a}\def\LR#1{(#1)}$ $$y = Ax \\ \frac{\partial L}{\partial x} = \a + \LR \\ dL = \LR$$ $\a$",
        "(= y (* A x))",
        &[r"Derivative: \frac{\partial L}{\partial x} | \a + \LR", r"Differential: dL | \LR"],
    );
    // Endless macros in prose are prose, and the page's budget for expansion keeps a page
    // of many of them fast.
    let page = format!(r"$\def\a{{\a}}$ {} $$y = Ax$$", r"$\a$ ".repeat(1000));
    check(&page, "(= y (* A x))");
}

#[test]
fn presentation_is_transparent() {
    check_all(&[
        (r"$$y = \color{red}{A}x$$", "(= y (* A x))"),
        (r"$$y = \color{red} Ax$$", "(= y (* A x))"),
        (r"$$y = \textcolor{blue}{A}x$$", "(= y (* A x))"),
        (r"$$y = \boxed{Ax}$$", "(= y (* A x))"),
        (r"$$y = \boxed{a + b}^2$$", "(= y (^ (+ a b) 2))"),
        (r"$$U = {\rm Diag}(u)$$", "(= U (diag u))"),
        (r"$$U = \mathrm{Diag}(u)$$", "(= U (diag u))"),
        (r"$$U = \operatorname{Diag}(u)$$", "(= U (diag u))"),
        (r"$$y = {\bf A}x$$", "(= y (* A x))"),
        (r"$$y = {\it W}x$$", "(= y (* W x))"),
        (r"$$y = \rm A x$$", "(= y (* A x))"),
        (r"$$y = \displaystyle\tfrac12 \dfrac{a}{b}$$", "(= y (* (/ 1 2) (/ a b)))"),
        (r"$$y = \left( a \right) \big( b \big) \! \, \: \; \quad \qquad c$$", "(= y (* (* a b) c))"),
        (r"$$\eqalign{ y &= Ax \\ u &= \sigma(y) \\ }$$", "(= y (* A x)); (= u (sigmoid y))"),
        (r"\begin{gather} y = Ax \\ u = \sigma(y) \end{gather}", "(= y (* A x)); (= u (sigmoid y))"),
        (r"$$\begin{split} y &= Ax \\ u &= \sigma(y) \end{split}$$", "(= y (* A x)); (= u (sigmoid y))"),
        // `&` separates the equations of an `align` row.
        (r"\begin{align} y &= Ax & u &= \sigma(y) \end{align}", "(= y (* A x)); (= u (sigmoid y))"),
        // Arrows separate two equations on a row.
        (r"$$y = Ax \implies z = By$$", "(= y (* A x)); (= z (* B y))"),
        (r"$$y = Ax \iff z = By$$", "(= y (* A x)); (= z (* B y))"),
        (r"$$y = Ax \Rightarrow z = By$$", "(= y (* A x)); (= z (* B y))"),
        (r"$$y = Ax \Longrightarrow z = By$$", "(= y (* A x)); (= z (* B y))"),
        (r"$$y = Ax \\ \therefore z = By$$", "(= y (* A x)); (= z (* B y))"),
        // A comma or a quad separates two equations when a new `name =` follows.
        (
            r"$$P &= wz^T+A^Twu^TV, \qquad q = VA^TA^Tw, \qquad r = UA^TA^Tw \\$$",
            "(= P (+ (* w (' z)) (* (* (* (' A) w) (' u)) V))); \
             (= q (* (* (* V (' A)) (' A)) w)); (= r (* (* (* U (' A)) (' A)) w))",
        ),
        (r"$$y = Ax, \quad\text{and}\quad z = By.$$", "(= y (* A x)); (= z (* B y))"),
        (r"$$y = Ax,\; z = By$$", "(= y (* A x)); (= z (* B y))"),
        // Not before something that is not a new equation, nor inside brackets.
        (r"$$y = a \quad b$$", "(= y (* a b))"),
    ]);
    check_reading(
        r"$$L = x^Tx \\ \frac{\partial L}{\partial x} = g(a, \quad b = c) \\ dL = \|a, \quad b = c\|$$",
        "(= L (* (' x) x))",
        &[r"Derivative: \frac{\partial L}{\partial x} | g(a, \quad b = c)", r"Differential: dL | \|a, \quad b = c\|"],
    );
}

#[test]
fn equations_that_are_not_statements_are_asides() {
    let rows: &[(&str, &str, &[&str])] = &[
        // Derivatives.
        (r"$$L = x^Tx$$ $$\frac{dL}{dx} = 2x$$", "(= L (* (' x) x))", &["Derivative: \\frac{dL}{dx} | 2x"]),
        (
            r"$$L = x^Tx$$ $$\frac{\partial L}{\partial x} = 2x$$",
            "(= L (* (' x) x))",
            &[r"Derivative: \frac{\partial L}{\partial x} | 2x"],
        ),
        (r"$$L = x^Tx$$ $$∂L/∂x = 2x$$", "(= L (* (' x) x))", &["Derivative: ∂L/∂x | 2x"]),
        (r"$$L = x^Tx$$ $$\nabla_x L = 2x$$", "(= L (* (' x) x))", &[r"Derivative: \nabla_x L | 2x"]),
        (r"$$L = x^Tx$$ $$\dfrac{d}{dx} L = 2x$$", "(= L (* (' x) x))", &[r"Derivative: \dfrac{d}{dx} L | 2x"]),
        // Differentials, also after a numeric coefficient.
        (r"$$y = Ax$$ $$dy = dA\,x + A\,dx$$", "(= y (* A x))", &[r"Differential: dy | dA\,x + A\,dx"]),
        (r"$$L = w^Tw$$ $$dL = 2w^Tdw$$", "(= L (* (' w) w))", &["Differential: dL | 2w^Tdw"]),
        (r"$$L = w^Tw$$ $$\tfrac12\,dL = w:dw$$", "(= L (* (' w) w))", &[r"Differential: \tfrac12\,dL | w:dw"]),
        (r"$$L = w^Tw$$ $$\frac{1}{2} dL = w:dw$$", "(= L (* (' w) w))", &[r"Differential: \frac{1}{2} dL | w:dw"]),
        (
            r"$$L = w^Tw$$ $$\operatorname{d}L = 2w^T\operatorname{d}w$$",
            "(= L (* (' w) w))",
            &[r"Differential: \operatorname{d}L | 2w^T\operatorname{d}w"],
        ),
        (
            r"$$u = \sigma(y)$$ $$d\sigma = \sigma(1-\sigma)\,dy$$",
            "(= u (sigmoid y))",
            &[r"Differential: d\sigma | \sigma(1-\sigma)\,dy"],
        ),
        // Continuation rows: a chain of equalities; the statement is its first row.
        (
            r"$$\eqalign{ L &= \|w\|^2 \\ &= w^Tw \\ &= \sum_i w_i^2. }$$",
            "(= L (^ (norm2 w) 2))",
            &["Continuation:  | w^Tw", r"Continuation:  | \sum_i w_i^2"],
        ),
        // Chains and other equations, with every side.
        (
            r"$$y = Ax$$ $$A:B = B:A = \operatorname{Tr}(A^TB)$$",
            "(= y (* A x))",
            &[r"Equation: A:B | B:A | \operatorname{Tr}(A^TB)"],
        ),
        (r"$$y = Ax$$ $$A:A = \|A\|_F^2$$", "(= y (* A x))", &[r"Equation: A:A | \|A\|_F^2"]),
        (
            r"$\def\LR#1{\left(#1\right)}$ $$y = Ax$$ $$C:\LR{AB} = \LR{CB^T}:A = \LR{A^TC}:B$$",
            "(= y (* A x))",
            &[r"Equation: C:\LR{AB} | \LR{CB^T}:A | \LR{A^TC}:B"],
        ),
        // A name with its arguments (`f(x)`, `J(\theta)`) names a statement, as a paper names
        // its loss; `\sigma(x) = …` defines the sigmoid and is an aside.
        (r"$$y = Ax$$ $$f(x) = x^2$$", "(= y (* A x)); (= f (^ x 2))", &[]),
        (r"$$y = Ax$$ $$\sigma(x) = 1/(1 + e^{-x})$$", "(= y (* A x))", &["Equation: \\sigma(x) | 1/(1 + e^{-x})"]),
        // The right side of an aside is never parsed.
        (
            r"$$y = Ax$$ $$\frac{\partial L}{\partial x} = \sum_j @ \int$$",
            "(= y (* A x))",
            &[r"Derivative: \frac{\partial L}{\partial x} | \sum_j @ \int"],
        ),
        // An environment in prose, with a macro defined in inline math before it.
        (
            r"The rule: $\newcommand{\dv}[1]{\operatorname{d}\!{#1}}$ \begin{equation} \frac{\dv{L}}{\dv{x_i}} = \sum_{j\in\mathrm{Children}(i)} \frac{\partial x_j}{\partial x_i} \frac{\dv{L}}{\dv{x_j}}. \end{equation} for $$y = Ax$$",
            "(= y (* A x))",
            &[
                r"Derivative: \frac{\dv{L}}{\dv{x_i}} | \sum_{j\in\mathrm{Children}(i)} \frac{\partial x_j}{\partial x_i} \frac{\dv{L}}{\dv{x_j}}",
            ],
        ),
        // Arrows and quads on one row.
        (
            r"$\def\qiq{\quad\implies\quad}$ $$\eqalign{ y &= Ax &\qiq dy = dA\:x + A\:dx \\ L &= \|w\|^2 &\qiq dL = 2w^Tdw \\ }$$",
            "(= y (* A x)); (= L (^ (norm2 w) 2))",
            &[r"Differential: dy | dA\:x + A\:dx", "Differential: dL | 2w^Tdw"],
        ),
    ];
    for (input, expected, asides) in rows {
        check_reading(input, expected, asides);
    }
    // The aside's span covers its sides, in the original text.
    let source = r"$\def\g{\frac{dL}{dx}}$ $$L = x^Tx \\ \g = 2x$$";
    let program = parse(source).expect("parses");
    assert_eq!(&source[program.asides[0].span.range()], r"\g = 2x");
    // Inline math with `=` is prose, never an aside or an error.
    check_document(
        r"so $\frac{\partial L}{\partial A} = \frac{\partial L}{\partial w}\weird$ and $$y = Ax$$",
        "(= y (* A x))",
        &[r"so $\frac{\partial L}{\partial A} = \frac{\partial L}{\partial w}\weird$ and"],
    );
    // A name on the left with an unreadable right side stays an error: dropping it would
    // change the model.
    check_error(r"$$y = \int_0^1 x$$", r"unknown LaTeX command `\int`", (6, 10));
    check_error(r"$$\eqalign{ L &= \|w\|^2 \\ y &= @ }$$", "unexpected character `@`", (33, 34));
    // A bare `= b` (no `&`) is not a continuation.
    check_error(r"$$y = A \\ = B$$", "expected a name before `=`", (11, 12));
}

#[test]
fn line_endings_and_lone_dollars() {
    check_all(&[
        ("y = A*x\rz = B*y", "(= y (* A x)); (= z (* B y))"),
        ("y = A*x\r\nz = B*y\r\n", "(= y (* A x)); (= z (* B y))"),
        ("# a comment\ry = A*x", "(= y (* A x))"),
        ("y = A*x  # costs $5\rz = B*y", "(= y (* A x)); (= z (* B y))"),
        ("y = A*x  #1 costs $5 or $6\nz = B*y", "(= y (* A x)); (= z (* B y))"),
        ("Let $x \\in \\mathbb{R}^n$.\r$$y = Ax$$\r", "(: x (vector n)); (= y (* A x))"),
    ]);
    // A lone `$` in a program is a stray character, not the start of a document.
    check_error("y = A*x$", "unexpected character `$`", (7, 8));
    assert!(parse("y = A*x$").err().and_then(|e| e.hint).is_some_and(|h| h.contains("$$")));
}

/// The page of the question this project started from, as pasted (a question and three
/// answers), and the places where each answer starts.
fn seed_page() -> (&'static str, [usize; 3]) {
    let page = include_str!("../../tests/data/pages/backprop-question.txt");
    let at = |marker: &str| page.find(marker).unwrap_or_else(|| panic!("the page has {marker:?}"));
    (page, [at("3 Answers3"), at("1\n\n$$\\frac{dL}{dA}"), at("0\n\n$ \\def\\s")])
}

/// Statement names in order, and aside counts per kind (derivative, differential,
/// continuation, equation).
fn reading(source: &str) -> (Vec<String>, [usize; 4]) {
    let program = parse(source).unwrap_or_else(|e| panic!("{} at {:?}", e.message, e.span));
    let names = program
        .items
        .iter()
        .map(|item| match item {
            Item::Assign { name, .. } => name.text.clone(),
            Item::Declare { names, .. } => format!("{}:", names[0].text),
        })
        .collect();
    let mut counts = [0; 4];
    for aside in &program.asides {
        counts[aside.kind as usize] += 1;
    }
    (names, counts)
}

#[test]
fn the_seed_page_reads_whole() {
    let (page, [answers, second, third]) = seed_page();
    let question = &page[..answers];
    let model = ["x:", "y", "u", "v", "z", "w", "L"];
    let restated = ["y", "u", "U", "v", "z", "V", "w", "L", "P", "q", "r"];
    assert_eq!(reading(question), (model.map(String::from).to_vec(), [0, 0, 0, 0]));
    check(question, &format!("(: x (vector k)); {MOTIVATING_SEXPR}"));
    // Each answer after the question.
    assert_eq!(reading(&page[..second]).1, [2, 0, 0, 0]);
    assert_eq!(reading(&format!("{question}{}", &page[second..third])).1, [6, 0, 0, 0]);
    let with_third = format!("{question}{}", &page[third..]);
    let names: Vec<String> = model.iter().chain(&restated).map(|s| s.to_string()).collect();
    assert_eq!(reading(&with_third), (names.clone(), [3, 9, 8, 5]));
    // The third answer alone.
    assert_eq!(reading(&page[third..]), (restated.map(String::from).to_vec(), [3, 9, 8, 5]));
    check(
        &page[third..],
        "(= y (* A x)); (= u (sigmoid y)); (= U (diag u)); (= v (* B x)); (= z (* A (.* u v))); \
         (= V (diag v)); (= w (* A z)); (= L (^ (norm2 w) 2)); \
         (= P (+ (* w (' z)) (* (* (* (' A) w) (' u)) V))); \
         (= q (* (* (* V (' A)) (' A)) w)); (= r (* (* (* U (' A)) (' A)) w))",
    );
    // The whole page.
    assert_eq!(reading(page), (names, [11, 9, 8, 5]));
    let program = parse(page).expect("parses");
    let texts: Vec<String> = program.asides.iter().map(|a| aside(page, a)).collect();
    for expected in [
        r"Derivative: \frac{\dv{L}}{\dv{x_i}} | \sum_{j\in\mathrm{Children}(i)} \frac{\partial x_j}{\partial x_i} \frac{\dv{L}}{\dv{x_j}}",
        r"Derivative: \frac{dL} {dv} | \frac{dL}{dz} \frac {\partial z} {\partial v}",
        r"Differential: dy | dA\:x + A\:dx",
        r"Differential: \tfrac 12\:dL | P:dA + r:dv + q:du",
        r"Continuation:  | w : \LR{dA\:z + A\:dz}",
        r"Derivative: \cgrad{L}{B} | 2rx^T",
        r"Equation: A:B | \sum_{i=1}^m\sum_{j=1}^n A_{ij}B_{ij} | \trace{A^TB}",
        r"Equation: C:\LR{AB} | \LR{CB^T}:A | \LR{A^TC}:B",
    ] {
        assert!(texts.iter().any(|t| t == expected), "no aside {expected:?} in {texts:#?}");
    }
    // Statements written with macros point at the text as written.
    let spans: Vec<&str> = program
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Assign { name, span, .. } if ["u", "U"].contains(&name.text.as_str()) => Some(&page[span.range()]),
            _ => None,
        })
        .collect();
    assert_eq!(spans, [r"u = \sigma (y)", r"u &= \s(y)", r"U &= {\rm Diag}(u)"]);
}
