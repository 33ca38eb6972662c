//! Computation graphs as pictures. A [`Diagram`] is what `matgrad explain` draws: the inputs
//! and named intermediates of a program as boxes, with an edge wherever one is used to compute
//! another. It renders as Graphviz DOT ([`to_dot`]) or as a standalone SVG ([`to_svg`]) laid
//! out by this module, so drawing needs no external program.
//!
//! The SVG layout is Sugiyama-style and flows left to right: layers by longest path, a
//! virtual point in every layer an edge skips, barycenter sweeps and adjacent swaps against
//! crossings, then heights within each layer by least-squares alignment with the neighbours,
//! long edges straightened where there is room, and edges attached to box borders level with
//! their other end where the border reaches. Invariants, checked by the tests on every
//! example: boxes never overlap and hold their text, every edge leaves its source's right
//! border and ends on its target's left border, edges only run rightwards, and no edge passes
//! through a box. Output is a function of the input alone (no hashing, no clocks), so the same
//! diagram always gives the same bytes.

use std::fmt::Write;

/// A computation graph to draw: nodes in topological order (every edge goes from a lower
/// index to a higher one).
#[derive(Clone, Debug, Default)]
pub struct Diagram {
    /// The boxes, in topological order.
    pub nodes: Vec<DiagramNode>,
    /// (from, to): `from` is used to compute `to`. Indices into `nodes`, from < to.
    /// Repeated edges are drawn once; edges that break the rule are not drawn.
    pub edges: Vec<(usize, usize)>,
}

/// One box of a [`Diagram`].
#[derive(Clone, Debug)]
pub struct DiagramNode {
    /// The name, as it should be shown: "A", "u", "L", "W₁" (may contain any Unicode).
    pub title: String,
    /// Further lines under the title, e.g. "K×K", "‖A‖ = 3.162", "‖Ā‖ = 41.7".
    pub lines: Vec<String>,
    /// What the node is to the program; decides its colours.
    pub kind: NodeKind,
}

/// The role of a node in the program. Inputs that use nothing are drawn in the leftmost
/// column, an output that nothing uses in the rightmost.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NodeKind {
    /// A variable the program reads.
    Input,
    /// A named statement on the way to the output.
    Intermediate,
    /// The value the program computes.
    Output,
}

/// The font stack of both renderers: generic, so the SVG needs no font files.
const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";
const EDGE_COLOUR: &str = "#4d4d4d";

/// Fill, border colour and border width of a node's box.
struct Look {
    fill: &'static str,
    stroke: &'static str,
    stroke_width: f64,
}

impl NodeKind {
    fn look(self) -> Look {
        match self {
            NodeKind::Input => Look { fill: "#e1ecf9", stroke: "#3d6ea5", stroke_width: 1.2 },
            NodeKind::Intermediate => Look { fill: "#f4f4f4", stroke: "#707070", stroke_width: 1.2 },
            NodeKind::Output => Look { fill: "#fde9cf", stroke: "#b3640b", stroke_width: 2.4 },
        }
    }
}

/// The diagram in Graphviz DOT, left to right, with HTML-like labels (bold title, smaller
/// lines) and the same colours as the SVG.
pub fn to_dot(diagram: &Diagram) -> String {
    let edges = drawn_edges(diagram);
    let mut out = String::from("digraph matgrad {\n");
    out.push_str("  graph [rankdir=LR, nodesep=0.3, ranksep=0.6];\n");
    let _ = writeln!(out, "  node [shape=box, style=\"rounded,filled\", fontname=\"{FONT_FAMILY}\", fontsize=14];");
    let _ = writeln!(out, "  edge [color=\"{EDGE_COLOUR}\", arrowsize=0.7];");
    for (i, node) in diagram.nodes.iter().enumerate() {
        // Graphviz rejects empty <B></B> and <FONT></FONT>: an empty line is just a break.
        let title = if node.title.is_empty() { String::new() } else { format!("<B>{}</B>", escape(&node.title)) };
        let lines = node.lines.iter().map(|line| match line.as_str() {
            "" => String::new(),
            line => format!("<FONT POINT-SIZE=\"11\">{}</FONT>", escape(line)),
        });
        let parts: Vec<String> = (!title.is_empty()).then_some(title).into_iter().chain(lines).collect();
        let label =
            if parts.iter().all(String::is_empty) { "\"\"".to_string() } else { format!("<{}>", parts.join("<BR/>")) };
        let look = node.kind.look();
        let _ = writeln!(
            out,
            "  n{i} [label={label}, fillcolor=\"{}\", color=\"{}\", penwidth={}];",
            look.fill,
            look.stroke,
            number(look.stroke_width)
        );
    }
    for (from, to) in &edges {
        let _ = writeln!(out, "  n{from} -> n{to};");
    }
    // The same column rules as the SVG layout, stated as rank constraints.
    let (sources, sinks) = pinned(diagram, &edges);
    for (rank, nodes) in [("min", sources), ("max", sinks)] {
        if !nodes.is_empty() {
            let names: String = nodes.iter().map(|i| format!(" n{i};")).collect();
            let _ = writeln!(out, "  {{ rank={rank};{names} }}");
        }
    }
    out.push_str("}\n");
    out
}

/// The diagram as a standalone SVG document: no scripts, styles, fonts or images from
/// elsewhere, sized to its content.
pub fn to_svg(diagram: &Diagram) -> String {
    if layout_items(diagram) > MAX_LAYOUT_ITEMS {
        return too_large(diagram);
    }
    let layout = layout(diagram);
    let (width, height) = (number(layout.width), number(layout.height));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" font-family=\"{FONT_FAMILY}\">"
    );
    // The arrowhead's base sits where the path ends, its tip ARROW_LENGTH further on, at the
    // box border; so the line itself never pokes through the tip.
    let _ = writeln!(
        out,
        "<defs><marker id=\"matgrad-arrow\" viewBox=\"0 0 10 10\" refX=\"0\" refY=\"5\" markerWidth=\"{a}\" \
         markerHeight=\"{a}\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" \
         fill=\"{EDGE_COLOUR}\"/></marker></defs>",
        a = number(ARROW_LENGTH)
    );
    out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    let _ = writeln!(out, "<g fill=\"none\" stroke=\"{EDGE_COLOUR}\" stroke-width=\"1.3\">");
    for route in &layout.routes {
        let _ = writeln!(
            out,
            "<path d=\"{}\" marker-end=\"url(#matgrad-arrow)\"><title>{} → {}</title></path>",
            path_data(&route.points),
            escape(&diagram.nodes[route.from].title),
            escape(&diagram.nodes[route.to].title)
        );
    }
    out.push_str("</g>\n");
    for (node, rect) in diagram.nodes.iter().zip(&layout.boxes) {
        let look = node.kind.look();
        let _ = writeln!(
            out,
            "<g><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            number(rect.x),
            number(rect.y),
            number(rect.width),
            number(rect.height),
            look.fill,
            look.stroke,
            number(look.stroke_width)
        );
        let centre = rect.x + rect.width / 2.0;
        let mut top = rect.centre_y() - text_height(node) / 2.0;
        // Baselines sit 0.36 em below the middle of each line box, which centres the x-height.
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" font-weight=\"bold\" fill=\"#111111\">{}</text>",
            number(centre),
            number(top + TITLE_LINE / 2.0 + 0.36 * TITLE_SIZE),
            number(TITLE_SIZE),
            escape(&node.title)
        );
        top += TITLE_LINE;
        for line in &node.lines {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"#3a3a3a\">{}</text>",
                number(centre),
                number(top + LINE_HEIGHT / 2.0 + 0.36 * LINE_SIZE),
                number(LINE_SIZE),
                escape(line)
            );
            top += LINE_HEIGHT;
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// The most boxes and virtual points (one per layer an edge skips) the SVG layout places.
/// Its crossing reduction and alignment sweeps grow faster than linearly, and a weight used
/// by every statement skips every layer, so a long program's picture would take minutes and
/// gigabytes; past this a picture is also too large to read.
pub const MAX_LAYOUT_ITEMS: usize = 1000;

/// How many items [`layout`] would place: the boxes and the virtual points of every edge.
fn layout_items(diagram: &Diagram) -> usize {
    let edges = drawn_edges(diagram);
    let layer_of = layers(diagram, &edges);
    let skipped = edges.iter().map(|&(from, to)| layer_of[to] - layer_of[from] - 1);
    skipped.fold(diagram.nodes.len(), usize::saturating_add)
}

/// The picture of a graph too large to lay out: a sentence that says so.
fn too_large(diagram: &Diagram) -> String {
    let message = format!(
        "The graph has {} values and {} uses: too many to lay out here (its DOT form, for Graphviz, has them all).",
        diagram.nodes.len(),
        drawn_edges(diagram).len()
    );
    let width = number(text_width(&message, LINE_SIZE, false) + 2.0 * MARGIN);
    let height = number(LINE_HEIGHT + 2.0 * MARGIN);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" font-family=\"{FONT_FAMILY}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"#3a3a3a\">{}</text>\n</svg>\n",
        number(MARGIN),
        number(MARGIN + LINE_HEIGHT / 2.0 + 0.36 * LINE_SIZE),
        number(LINE_SIZE),
        escape(&message)
    )
}

// Sizes of the SVG, in px.
const TITLE_SIZE: f64 = 14.0;
const TITLE_LINE: f64 = 19.0;
const LINE_SIZE: f64 = 11.0;
const LINE_HEIGHT: f64 = 15.0;
const PAD_X: f64 = 12.0;
const PAD_Y: f64 = 7.0;
const MIN_BOX_WIDTH: f64 = 40.0;
const MARGIN: f64 = 16.0;
/// Vertical space between two boxes of a column.
const BOX_GAP: f64 = 20.0;
/// Vertical space between two edges that pass through a column.
const VIRTUAL_GAP: f64 = 12.0;
/// Distance between the points where edges attach to the same side of a box.
const PORT_SPACING: f64 = 10.0;
/// Space above the first and below the last attachment point of a box.
const PORT_INSET: f64 = 8.0;
/// Horizontal space between columns, at least; more by `GAP_PER_RISE` of the largest rise of
/// an edge between them, so steep edges get room to turn; at most `MAX_LAYER_GAP`.
const LAYER_GAP: f64 = 56.0;
const GAP_PER_RISE: f64 = 0.2;
const MAX_LAYER_GAP: f64 = 150.0;
const ARROW_LENGTH: f64 = 8.0;
/// Rounds of barycenter sweeps, each one down and one up.
const ORDER_ROUNDS: usize = 6;
/// Rounds of alignment, each one down and one up.
const ALIGN_ROUNDS: usize = 8;

/// A point of the drawing; y grows downwards.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Point {
    pub x: f64,
    pub y: f64,
}

/// An axis-aligned rectangle: top-left corner and size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.width
    }
    #[cfg(test)]
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }
    pub fn centre_y(&self) -> f64 {
        self.y + self.height / 2.0
    }
}

/// How one edge is drawn: from a point on the right border of `from`'s box, through the
/// virtual points of the layers it crosses, to a point on the left border of `to`'s box.
/// Consecutive points at the same height are joined straight, others by [`bezier`].
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub from: usize,
    pub to: usize,
    pub points: Vec<Point>,
}

/// Where everything goes: one box per node (same indices), one route per drawn edge.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub width: f64,
    pub height: f64,
    pub boxes: Vec<Rect>,
    pub routes: Vec<Route>,
}

/// The inner control points of the cubic from `a` to `b`: horizontal tangents at both ends,
/// so a route is smooth where curves meet straight runs.
pub(crate) fn bezier(a: Point, b: Point) -> (Point, Point) {
    let half = (b.x - a.x) / 2.0;
    (Point { x: a.x + half, y: a.y }, Point { x: b.x - half, y: b.y })
}

/// Lays the diagram out left to right (see the module doc).
pub(crate) fn layout(diagram: &Diagram) -> Layout {
    let edges = drawn_edges(diagram);
    let layer_of = layers(diagram, &edges);
    let mut graph = Layered::new(diagram, &edges, &layer_of);
    graph.reduce_crossings();
    let ports = graph.ports(diagram.nodes.len());
    let (before, after) = graph.links(&ports);
    let mut centre = graph.place(&before, &after);
    graph.straighten(&mut centre);
    let top = graph.items.iter().zip(&centre).map(|(item, y)| y - item.height / 2.0).fold(f64::INFINITY, f64::min);
    if top.is_finite() {
        centre.iter_mut().for_each(|y| *y += MARGIN - top);
    }
    let height = graph.items.iter().zip(&centre).map(|(item, y)| y + item.height / 2.0).fold(MARGIN, f64::max) + MARGIN;
    let heights = graph.attach(&centre, &ports);

    // Each column is as wide as its widest box; the gap after it grows with the largest
    // rise of an edge across it.
    let mut rise = vec![0.0; graph.layers.len()];
    for (ys, &(from, _)) in heights.iter().zip(&edges) {
        for (k, pair) in ys.windows(2).enumerate() {
            rise[layer_of[from] + k] = f64::max(rise[layer_of[from] + k], (pair[1] - pair[0]).abs());
        }
    }
    let mut columns: Vec<(f64, f64)> = Vec::with_capacity(graph.layers.len());
    let mut x = MARGIN;
    for (l, layer) in graph.layers.iter().enumerate() {
        let width = layer.iter().map(|&i| graph.items[i].width).fold(0.0, f64::max);
        if l > 0 {
            x += (LAYER_GAP + GAP_PER_RISE * rise[l - 1]).min(MAX_LAYER_GAP);
        }
        columns.push((x, width));
        x += width;
    }
    let width = x.max(MARGIN) + MARGIN;

    let boxes: Vec<Rect> = (0..diagram.nodes.len())
        .map(|i| {
            let item = &graph.items[i];
            let (left, column_width) = columns[item.layer];
            Rect {
                x: left + (column_width - item.width) / 2.0,
                y: centre[i] - item.height / 2.0,
                width: item.width,
                height: item.height,
            }
        })
        .collect();

    let routes = edges
        .iter()
        .zip(&heights)
        .map(|(&(from, to), ys)| {
            let mut points: Vec<Point> = Vec::new();
            let last = ys.len() - 1;
            for (k, &y) in ys.iter().enumerate() {
                // Across each column at one height: from the box's border, or the column's
                // left edge, to the next. A box narrower than its column is centred in it,
                // so the straight run beside it stays within the box's own rows.
                let (left, column_width) = columns[layer_of[from] + k];
                for x in [
                    if k == 0 { boxes[from].right() } else { left },
                    if k == last { boxes[to].x } else { left + column_width },
                ] {
                    if points.last() != Some(&Point { x, y }) {
                        points.push(Point { x, y });
                    }
                }
            }
            Route { from, to, points }
        })
        .collect();
    Layout { width, height, boxes, routes }
}

/// The edges to draw: in range, going forwards, each once, in the order given.
fn drawn_edges(diagram: &Diagram) -> Vec<(usize, usize)> {
    let mut seen = std::collections::BTreeSet::new();
    diagram
        .edges
        .iter()
        .copied()
        .filter(|&(from, to)| from < to && to < diagram.nodes.len() && seen.insert((from, to)))
        .collect()
}

/// Inputs that use nothing (for the leftmost column) and outputs that nothing uses (for the
/// rightmost).
fn pinned(diagram: &Diagram, edges: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
    let (mut uses, mut used) = (vec![false; diagram.nodes.len()], vec![false; diagram.nodes.len()]);
    for &(from, to) in edges {
        (uses[to], used[from]) = (true, true);
    }
    let free = |kind: NodeKind, taken: &[bool]| {
        (0..diagram.nodes.len()).filter(|&i| diagram.nodes[i].kind == kind && !taken[i]).collect()
    };
    (free(NodeKind::Input, &uses), free(NodeKind::Output, &used))
}

/// Each node's layer: the longest path to it from a source, except that an output nothing
/// uses goes to the last layer.
fn layers(diagram: &Diagram, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut layer = vec![0; diagram.nodes.len()];
    // In order of target, every edge into a node is seen before any edge out of it.
    let mut by_target = edges.to_vec();
    by_target.sort_by_key(|&(from, to)| (to, from));
    for (from, to) in by_target {
        layer[to] = layer[to].max(layer[from] + 1);
    }
    let last = layer.iter().copied().max().unwrap_or(0);
    for i in pinned(diagram, edges).1 {
        layer[i] = last;
    }
    layer
}

/// A box (`node` is its index) or a virtual point where an edge passes through a layer.
struct Item {
    node: Option<usize>,
    layer: usize,
    width: f64,
    height: f64,
}

impl Item {
    /// Half the vertical space this item keeps from its neighbours in the layer.
    fn clearance(&self) -> f64 {
        if self.node.is_some() {
            BOX_GAP / 2.0
        } else {
            VIRTUAL_GAP / 2.0
        }
    }
}

/// An arc between adjacent layers seen from one end: the item at the other end, where the
/// arc attaches to each (offsets from the centres), and how much it wants to be straight.
#[derive(Clone, Copy)]
struct Link {
    other: usize,
    here: f64,
    there: f64,
    weight: f64,
}

/// The edges on each side of each box, in the order they attach top to bottom, and where
/// each edge would ideally attach (an offset from the box centre, ports evenly spaced).
struct Ports {
    leaving: Vec<Vec<usize>>,
    entering: Vec<Vec<usize>>,
    source: Vec<f64>,
    target: Vec<f64>,
}

/// The graph as the layout sees it: boxes and virtual points in layers, each edge a chain of
/// arcs between adjacent layers. Items `0..n` are the nodes; virtual points follow.
struct Layered {
    items: Vec<Item>,
    /// Item ids per layer, top to bottom.
    layers: Vec<Vec<usize>>,
    /// Per drawn edge, the items it passes through, source to target.
    chains: Vec<Vec<usize>>,
    /// Per item, its neighbours in the layer before and in the layer after.
    before: Vec<Vec<usize>>,
    after: Vec<Vec<usize>>,
}

impl Layered {
    fn new(diagram: &Diagram, edges: &[(usize, usize)], layer_of: &[usize]) -> Layered {
        let n = diagram.nodes.len();
        let mut degree = vec![(0, 0); n];
        for &(from, to) in edges {
            degree[from].1 += 1;
            degree[to].0 += 1;
        }
        let mut items: Vec<Item> = diagram
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let (width, height) = box_size(node, degree[i].0.max(degree[i].1));
                Item { node: Some(i), layer: layer_of[i], width, height }
            })
            .collect();
        let mut layers = vec![Vec::new(); layer_of.iter().max().map_or(0, |m| m + 1)];
        for (i, &l) in layer_of.iter().enumerate() {
            layers[l].push(i);
        }
        let mut chains = Vec::with_capacity(edges.len());
        for &(from, to) in edges {
            let mut chain = vec![from];
            let skipped = layer_of[from] + 1..layer_of[to];
            for (layer, members) in skipped.clone().zip(&mut layers[skipped]) {
                members.push(items.len());
                chain.push(items.len());
                items.push(Item { node: None, layer, width: 0.0, height: 0.0 });
            }
            chain.push(to);
            chains.push(chain);
        }
        let mut before = vec![Vec::new(); items.len()];
        let mut after = vec![Vec::new(); items.len()];
        for pair in chains.iter().flat_map(|chain| chain.windows(2)) {
            after[pair[0]].push(pair[1]);
            before[pair[1]].push(pair[0]);
        }
        Layered { items, layers, chains, before, after }
    }

    /// Each item's index within its layer.
    fn positions(&self) -> Vec<usize> {
        let mut position = vec![0; self.items.len()];
        for layer in &self.layers {
            for (i, &item) in layer.iter().enumerate() {
                position[item] = i;
            }
        }
        position
    }

    /// Orders the layers by barycenter sweeps, down then up, keeping the order with the
    /// fewest crossings seen (the first such, so the result is deterministic).
    fn reduce_crossings(&mut self) {
        let count = self.layers.len();
        let mut best = self.layers.clone();
        let mut fewest = self.crossings();
        let mut position = self.positions();
        for round in 0..2 * ORDER_ROUNDS {
            if round % 2 == 0 {
                (1..count).for_each(|l| self.sort_layer(l, l - 1, &mut position));
            } else {
                (0..count.saturating_sub(1)).rev().for_each(|l| self.sort_layer(l, l + 1, &mut position));
            }
            self.transpose(&mut position);
            let crossings = self.crossings();
            if crossings < fewest {
                fewest = crossings;
                best = self.layers.clone();
            }
        }
        self.layers = best;
    }

    /// Sorts layer `l` by the mean relative position of each item's neighbours in the
    /// adjacent layer `by`. Items without neighbours there, and ties, keep their place.
    /// `position` is each item's index in its layer, kept up to date.
    fn sort_layer(&mut self, l: usize, by: usize, position: &mut [usize]) {
        let neighbours = if by < l { &self.before } else { &self.after };
        // Relative positions, so that layers of different sizes compare.
        let relative = |item: usize, len: usize| (position[item] as f64 + 0.5) / len as f64;
        let mut keyed: Vec<(f64, usize, usize)> = self.layers[l]
            .iter()
            .map(|&item| {
                let near = &neighbours[item];
                let key = if near.is_empty() {
                    relative(item, self.layers[l].len())
                } else {
                    near.iter().map(|&o| relative(o, self.layers[by].len())).sum::<f64>() / near.len() as f64
                };
                (key, position[item], item)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        self.layers[l] = keyed.into_iter().map(|(_, _, item)| item).collect();
        for (k, &item) in self.layers[l].iter().enumerate() {
            position[item] = k;
        }
    }

    /// Swaps neighbours in a layer while that removes crossings with the layers either side
    /// (the "transpose" step of Gansner et al.), which barycenters alone can miss. Each swap
    /// lowers the number of crossings, so this ends.
    fn transpose(&mut self, position: &mut [usize]) {
        let mut improved = true;
        while improved {
            improved = false;
            for l in 0..self.layers.len() {
                for i in 1..self.layers[l].len() {
                    let (upper, lower) = (self.layers[l][i - 1], self.layers[l][i]);
                    if self.crossings_between(upper, lower, position) > self.crossings_between(lower, upper, position) {
                        self.layers[l].swap(i - 1, i);
                        position.swap(upper, lower);
                        improved = true;
                    }
                }
            }
        }
    }

    /// Crossings between the arcs of `upper` and those of `lower`, with `upper` placed above.
    fn crossings_between(&self, upper: usize, lower: usize, position: &[usize]) -> usize {
        [&self.before, &self.after]
            .iter()
            .map(|near| {
                near[upper]
                    .iter()
                    .map(|&a| near[lower].iter().filter(|&&b| position[b] < position[a]).count())
                    .sum::<usize>()
            })
            .sum()
    }

    /// Pairs of arcs between adjacent layers that cross.
    fn crossings(&self) -> usize {
        let position = self.positions();
        let mut total = 0;
        for layer in &self.layers {
            let arcs: Vec<(usize, usize)> = layer
                .iter()
                .flat_map(|&a| self.after[a].iter().map(move |&b| (a, b)))
                .map(|(a, b)| (position[a], position[b]))
                .collect();
            for (i, &(a1, b1)) in arcs.iter().enumerate() {
                total += arcs[i + 1..].iter().filter(|&&(a2, b2)| (a1 < a2 && b1 > b2) || (a1 > a2 && b1 < b2)).count();
            }
        }
        total
    }

    /// Orders the edges on each side of a box like the items they go to, so they do not
    /// cross at the box, and spaces them evenly about its centre.
    fn ports(&self, node_count: usize) -> Ports {
        let position = self.positions();
        let edge_count = self.chains.len();
        let mut ports = Ports {
            leaving: vec![Vec::new(); node_count],
            entering: vec![Vec::new(); node_count],
            source: vec![0.0; edge_count],
            target: vec![0.0; edge_count],
        };
        for (e, chain) in self.chains.iter().enumerate() {
            ports.leaving[chain[0]].push(e);
            ports.entering[chain[chain.len() - 1]].push(e);
        }
        for side in &mut ports.leaving {
            side.sort_by_key(|&e| position[self.chains[e][1]]);
        }
        for side in &mut ports.entering {
            side.sort_by_key(|&e| position[self.chains[e][self.chains[e].len() - 2]]);
        }
        for (sides, offsets) in [(&ports.leaving, &mut ports.source), (&ports.entering, &mut ports.target)] {
            for side in sides {
                let middle = (side.len() as f64 - 1.0) / 2.0;
                for (k, &e) in side.iter().enumerate() {
                    offsets[e] = (k as f64 - middle) * PORT_SPACING;
                }
            }
        }
        ports
    }

    /// The height at which each edge passes each item of its chain: a virtual point's own
    /// height, and on a box's border as level with the other end as the order and spacing of
    /// the ports allow, so that edges between boxes that face each other run straight.
    fn attach(&self, centre: &[f64], ports: &Ports) -> Vec<Vec<f64>> {
        let mut heights: Vec<Vec<f64>> =
            self.chains.iter().map(|chain| chain.iter().map(|&item| centre[item]).collect()).collect();
        // Leaving ports aim where the next item would ideally take the edge; entering ports
        // then aim at the items before them as placed.
        for (node, side) in ports.leaving.iter().enumerate() {
            let wanted: Vec<f64> = side
                .iter()
                .map(|&e| {
                    let next = self.chains[e][1];
                    centre[next] + if self.items[next].node.is_some() { ports.target[e] } else { 0.0 }
                })
                .collect();
            let ideal: Vec<f64> = side.iter().map(|&e| ports.source[e]).collect();
            for (&e, y) in side.iter().zip(self.spread(node, centre[node], &wanted, &ideal)) {
                heights[e][0] = y;
            }
        }
        for (node, side) in ports.entering.iter().enumerate() {
            let wanted: Vec<f64> = side.iter().map(|&e| heights[e][heights[e].len() - 2]).collect();
            let ideal: Vec<f64> = side.iter().map(|&e| ports.target[e]).collect();
            for (&e, y) in side.iter().zip(self.spread(node, centre[node], &wanted, &ideal)) {
                let last = heights[e].len() - 1;
                heights[e][last] = y;
            }
        }
        heights
    }

    /// Heights for the ports on one side of box `node` (centred at `centre`), in order and
    /// `PORT_SPACING` apart within its border less `PORT_INSET`: level with `wanted` where
    /// that lies beside the box and the others allow, else near the `ideal` offset, since an
    /// edge that must bend anyway looks best leaving from the middle.
    fn spread(&self, node: usize, centre: f64, wanted: &[f64], ideal: &[f64]) -> Vec<f64> {
        let count = wanted.len();
        let reach = self.items[node].height / 2.0 - PORT_INSET;
        let wanted: Vec<f64> = wanted
            .iter()
            .zip(ideal)
            .map(|(&y, &offset)| if (y - centre).abs() <= reach { y } else { centre + offset })
            .collect();
        let placed = separate(&wanted, &vec![PORT_SPACING; count.saturating_sub(1)], &vec![1.0; count]);
        // The box is tall enough for all its ports, so the k-th port always has room for k
        // ports above it and the rest below; clamping to that room keeps order and spacing.
        placed
            .iter()
            .enumerate()
            .map(|(k, y)| {
                let (above, below) = (k as f64 * PORT_SPACING, (count - 1 - k) as f64 * PORT_SPACING);
                y.max(centre - reach + above).min(centre + reach - below)
            })
            .collect()
    }

    /// Each item's links to the layer before and to the layer after. Arcs that are part of
    /// long edges weigh more, so long edges run straight (Gansner et al. weigh 1, 2, 8).
    fn links(&self, ports: &Ports) -> (Vec<Vec<Link>>, Vec<Vec<Link>>) {
        let mut before = vec![Vec::new(); self.items.len()];
        let mut after = vec![Vec::new(); self.items.len()];
        for (e, chain) in self.chains.iter().enumerate() {
            let last = chain.len() - 2;
            for (k, pair) in chain.windows(2).enumerate() {
                let (a, b) = (pair[0], pair[1]);
                let at_a = if k == 0 { ports.source[e] } else { 0.0 };
                let at_b = if k == last { ports.target[e] } else { 0.0 };
                let weight = match (self.items[a].node, self.items[b].node) {
                    (Some(_), Some(_)) => 1.0,
                    (None, None) => 8.0,
                    _ => 2.0,
                };
                after[a].push(Link { other: b, here: at_a, there: at_b, weight });
                before[b].push(Link { other: a, here: at_b, there: at_a, weight });
            }
        }
        (before, after)
    }

    /// The vertical centre of every item: stacked, then aligned with the layer before and
    /// the layer after in alternating sweeps.
    fn place(&self, before: &[Vec<Link>], after: &[Vec<Link>]) -> Vec<f64> {
        let mut centre = vec![0.0; self.items.len()];
        for layer in &self.layers {
            let mut y = 0.0;
            for (k, &item) in layer.iter().enumerate() {
                if k > 0 {
                    y += self.spacing(layer[k - 1], item);
                }
                centre[item] = y;
            }
        }
        let count = self.layers.len();
        for _ in 0..ALIGN_ROUNDS {
            (1..count).for_each(|l| self.align(l, before, &mut centre));
            (0..count.saturating_sub(1)).rev().for_each(|l| self.align(l, after, &mut centre));
        }
        centre
    }

    /// Puts all the virtual points of a long edge at one height where their neighbours leave
    /// room, so the edge runs dead straight between the columns it crosses rather than
    /// stepping by a few px at each. Of the heights the points already have, the one that
    /// moves them least wins.
    fn straighten(&self, centre: &mut [f64]) {
        let position = self.positions();
        let fits = |item: usize, y: f64, centre: &[f64]| {
            let layer = &self.layers[self.items[item].layer];
            let k = position[item];
            (k == 0 || y >= centre[layer[k - 1]] + self.spacing(layer[k - 1], item))
                && (k + 1 == layer.len() || y <= centre[layer[k + 1]] - self.spacing(item, layer[k + 1]))
        };
        // A straightened edge can make room for its neighbour, so repeat while that helps.
        let mut straight = vec![false; self.chains.len()];
        let mut changed = true;
        while changed {
            changed = false;
            for (chain, done) in self.chains.iter().zip(&mut straight) {
                let run = &chain[1..chain.len() - 1];
                if *done || run.len() < 2 {
                    continue;
                }
                let moved = |y: f64| run.iter().map(|&v| (centre[v] - y).abs()).sum::<f64>();
                let mut heights: Vec<f64> = run.iter().map(|&v| centre[v]).collect();
                heights.sort_by(|a, b| moved(*a).total_cmp(&moved(*b)).then(a.total_cmp(b)));
                if let Some(&y) = heights.iter().find(|&&y| run.iter().all(|&v| fits(v, y, centre))) {
                    run.iter().for_each(|&v| centre[v] = y);
                    (*done, changed) = (true, true);
                }
            }
        }
    }

    /// The least distance between the centres of two items that are adjacent in a layer.
    fn spacing(&self, a: usize, b: usize) -> f64 {
        let (a, b) = (&self.items[a], &self.items[b]);
        a.height / 2.0 + a.clearance() + b.clearance() + b.height / 2.0
    }

    /// Moves the items of layer `l` as close as the spacing allows to where their links want
    /// them: level with the other ends' attachment points.
    fn align(&self, l: usize, links: &[Vec<Link>], centre: &mut [f64]) {
        let layer = &self.layers[l];
        let wanted: Vec<f64> = layer
            .iter()
            .map(|&item| {
                let near = &links[item];
                if near.is_empty() {
                    return centre[item];
                }
                let total: f64 = near.iter().map(|link| link.weight).sum();
                near.iter().map(|link| link.weight * (centre[link.other] + link.there - link.here)).sum::<f64>() / total
            })
            .collect();
        let spacing: Vec<f64> = layer.windows(2).map(|pair| self.spacing(pair[0], pair[1])).collect();
        // Virtual points hold their place more firmly than boxes, again for straight long edges.
        let weight: Vec<f64> = layer.iter().map(|&i| if self.items[i].node.is_some() { 1.0 } else { 4.0 }).collect();
        for (&item, y) in layer.iter().zip(separate(&wanted, &spacing, &weight)) {
            centre[item] = y;
        }
    }
}

/// The positions closest to `wanted` (least squares, weighted) that keep their order with
/// at least `spacing[i]` between the `i`th and the next. Subtracting each one's least offset
/// from the first turns this into isotonic regression, solved by pooling adjacent violators.
fn separate(wanted: &[f64], spacing: &[f64], weight: &[f64]) -> Vec<f64> {
    let mut offset = Vec::with_capacity(wanted.len());
    let mut total = 0.0;
    for i in 0..wanted.len() {
        offset.push(total);
        total += spacing.get(i).copied().unwrap_or(0.0);
    }
    // Blocks of items that share one shifted position: (total weight, weighted sum, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for i in 0..wanted.len() {
        blocks.push((weight[i], weight[i] * (wanted[i] - offset[i]), 1));
        while let [.., (w1, s1, c1), (w2, s2, c2)] = blocks[..] {
            if s1 / w1 <= s2 / w2 {
                break;
            }
            let merged = blocks.len() - 2;
            blocks[merged] = (w1 + w2, s1 + s2, c1 + c2);
            blocks.truncate(merged + 1);
        }
    }
    blocks.iter().flat_map(|&(w, s, c)| std::iter::repeat_n(s / w, c)).zip(offset).map(|(z, o)| z + o).collect()
}

/// The width and height of a node's box: room for its text, and for `ports` edges on one side.
fn box_size(node: &DiagramNode, ports: usize) -> (f64, f64) {
    let text = node
        .lines
        .iter()
        .map(|line| text_width(line, LINE_SIZE, false))
        .fold(text_width(&node.title, TITLE_SIZE, true), f64::max);
    let for_ports = ports.saturating_sub(1) as f64 * PORT_SPACING + 2.0 * PORT_INSET;
    ((text + 2.0 * PAD_X).max(MIN_BOX_WIDTH), (text_height(node) + 2.0 * PAD_Y).max(for_ports))
}

fn text_height(node: &DiagramNode) -> f64 {
    TITLE_LINE + node.lines.len() as f64 * LINE_HEIGHT
}

/// An upper estimate of the width of `text` in px. The widths (in em) are those of DejaVu
/// Sans, the widest font of the stack, rounded up per class of character; the viewer may
/// substitute any font, so it errs on the wide side.
fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| match c {
            // Combining marks sit on the letter before them.
            '\u{0300}'..='\u{036F}' | '\u{20D0}'..='\u{20FF}' => 0.0,
            ' ' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' | 'i' | 'j' | 'l' | 'I' | '(' | ')' | '[' | ']' => 0.42,
            'f' | 't' | 'r' | '{' | '}' | '/' | '\\' | '-' | '"' => 0.5,
            'M' | 'W' | 'm' | 'w' | '@' | '%' => 1.0,
            'A'..='Z' | '=' | '+' | '<' | '>' | '~' | '×' | '÷' | '±' | '−' => 0.84,
            c if c.is_ascii() => 0.66,
            // East Asian wide characters and emoji.
            '\u{1100}'..='\u{115F}'
            | '\u{2E80}'..='\u{A4CF}'
            | '\u{AC00}'..='\u{D7A3}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF00}'..='\u{FF60}'
            | '\u{FFE0}'..='\u{FFE6}'
            | '\u{1F300}'..='\u{1FAFF}'
            | '\u{20000}'..='\u{3FFFD}' => 1.1,
            _ => 0.84,
        })
        .sum();
    ems * size * if bold { 1.12 } else { 1.0 }
}

/// SVG path data for a route, ending `ARROW_LENGTH` short of the border for the arrowhead.
fn path_data(points: &[Point]) -> String {
    let mut points = points.to_vec();
    if let Some(&end) = points.last() {
        let end = Point { x: end.x - ARROW_LENGTH, y: end.y };
        points.pop();
        // A straight lead-in shorter than the arrowhead is replaced by the arrowhead.
        while points.len() > 1 && points.last().is_some_and(|p| p.y == end.y && p.x >= end.x) {
            points.pop();
        }
        points.push(end);
    }
    let mut data = String::new();
    for (k, &b) in points.iter().enumerate() {
        if k == 0 {
            let _ = write!(data, "M{},{}", number(b.x), number(b.y));
            continue;
        }
        let a = points[k - 1];
        if a.y == b.y {
            let _ = write!(data, " L{},{}", number(b.x), number(b.y));
        } else {
            let (c1, c2) = bezier(a, b);
            let _ = write!(
                data,
                " C{},{} {},{} {},{}",
                number(c1.x),
                number(c1.y),
                number(c2.x),
                number(c2.y),
                number(b.x),
                number(b.y)
            );
        }
    }
    data
}

/// A coordinate to one decimal, without a trailing ".0" or a negative zero.
fn number(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// Text for XML (SVG text, DOT's HTML-like labels): markup characters as entities, and
/// characters XML forbids as U+FFFD, so any title gives a well-formed document.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node(title: &str, lines: &[&str], kind: NodeKind) -> DiagramNode {
        DiagramNode { title: title.to_string(), lines: lines.iter().map(|l| l.to_string()).collect(), kind }
    }

    /// `y = A x; u = σ(y); v = B x; z = A (u ⊙ v); w = A z; L = ‖w‖²`.
    fn backprop() -> Diagram {
        use NodeKind::*;
        let nodes = vec![
            node("x", &["K", "‖x‖ = 1.732", "‖x̄‖ = 12.04"], Input),
            node("A", &["K×K", "‖A‖ = 3.162", "‖Ā‖ = 41.7"], Input),
            node("B", &["K×K", "‖B‖ = 2.449", "‖B̄‖ = 8.311"], Input),
            node("y", &["K", "‖y‖ = 4.123"], Intermediate),
            node("u", &["K", "‖u‖ = 1.514"], Intermediate),
            node("v", &["K", "‖v‖ = 3.606"], Intermediate),
            node("z", &["K", "‖z‖ = 6.083"], Intermediate),
            node("w", &["K", "‖w‖ = 19.1"], Intermediate),
            node("L", &["1×1", "L = 364.8"], Output),
        ];
        let edges = vec![(1, 3), (0, 3), (3, 4), (2, 5), (0, 5), (1, 6), (4, 6), (5, 6), (1, 7), (6, 7), (7, 8)];
        Diagram { nodes, edges }
    }

    /// `count` inputs all used by one output.
    fn wide(count: usize) -> Diagram {
        let mut nodes: Vec<DiagramNode> =
            (1..=count).map(|i| node(&format!("x{}", subscript(i)), &["n"], NodeKind::Input)).collect();
        nodes.push(node("s", &["1×1"], NodeKind::Output));
        Diagram { nodes, edges: (0..count).map(|i| (i, count)).collect() }
    }

    /// An input, `length - 1` statements each using the one before, the last the output.
    fn deep(length: usize) -> Diagram {
        let nodes = (0..length)
            .map(|i| {
                let kind = match i {
                    0 => NodeKind::Input,
                    i if i + 1 == length => NodeKind::Output,
                    _ => NodeKind::Intermediate,
                };
                node(&format!("h{}", subscript(i)), &["n"], kind)
            })
            .collect();
        Diagram { nodes, edges: (1..length).map(|i| (i - 1, i)).collect() }
    }

    /// One input used by `count` statements, which the output uses, plus one statement using
    /// the input and the first of them (an edge that skips a layer).
    fn many_children(count: usize) -> Diagram {
        let mut nodes = vec![node("W", &["n×n"], NodeKind::Input)];
        nodes.extend((1..=count).map(|i| node(&format!("h{}", subscript(i)), &["n"], NodeKind::Intermediate)));
        nodes.push(node("g", &["n"], NodeKind::Intermediate));
        nodes.push(node("L", &["1×1"], NodeKind::Output));
        let (g, out) = (count + 1, count + 2);
        let mut edges: Vec<(usize, usize)> = (1..=count).flat_map(|i| [(0, i), (i, out)]).collect();
        edges.extend([(0, g), (1, g), (g, out)]);
        Diagram { nodes, edges }
    }

    /// A recurrent net unrolled `steps` times, `hₜ = tanh(W hₜ₋₁ + U xₜ)`: the weights are
    /// used at every step, so their edges skip many layers.
    fn unrolled(steps: usize) -> Diagram {
        let mut nodes = vec![
            node("W", &["n×n"], NodeKind::Input),
            node("U", &["n×m"], NodeKind::Input),
            node("h₀", &["n"], NodeKind::Input),
        ];
        let mut edges = Vec::new();
        let mut previous = 2;
        for t in 1..=steps {
            nodes.push(node(&format!("x{}", subscript(t)), &["m"], NodeKind::Input));
            nodes.push(node(&format!("h{}", subscript(t)), &["n", "‖h‖ = 0.52"], NodeKind::Intermediate));
            let h = nodes.len() - 1;
            edges.extend([(0, h), (1, h), (previous, h), (h - 1, h)]);
            previous = h;
        }
        nodes.push(node("L", &["1×1"], NodeKind::Output));
        edges.push((previous, nodes.len() - 1));
        Diagram { nodes, edges }
    }

    fn subscript(i: usize) -> String {
        i.to_string().chars().map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c)).collect()
    }

    /// Every geometric invariant of the module doc, for one diagram.
    fn check_geometry(diagram: &Diagram) {
        const SLACK: f64 = 1e-6;
        let layout = layout(diagram);
        let boxes = &layout.boxes;
        assert_eq!(boxes.len(), diagram.nodes.len());
        for (i, (b, node)) in boxes.iter().zip(&diagram.nodes).enumerate() {
            assert!(b.x >= MARGIN - SLACK && b.y >= MARGIN - SLACK, "box {i} outside the margin");
            assert!(b.right() <= layout.width - MARGIN + SLACK && b.bottom() <= layout.height - MARGIN + SLACK);
            let text = node.lines.iter().map(|l| text_width(l, LINE_SIZE, false)).fold(0.0, f64::max);
            assert!(b.width >= text_width(&node.title, TITLE_SIZE, true).max(text) + 2.0 * PAD_X - SLACK);
            assert!(b.height >= text_height(node) + 2.0 * PAD_Y - SLACK);
            for (j, c) in boxes.iter().enumerate().skip(i + 1) {
                let apart = b.right() + BOX_GAP / 2.0 <= c.x
                    || c.right() + BOX_GAP / 2.0 <= b.x
                    || b.bottom() + BOX_GAP / 2.0 <= c.y
                    || c.bottom() + BOX_GAP / 2.0 <= b.y;
                assert!(apart, "boxes {i} and {j} overlap: {b:?} {c:?}");
            }
        }
        assert_eq!(layout.routes.len(), drawn_edges(diagram).len());
        for route in &layout.routes {
            let name = format!("edge {} → {}", route.from, route.to);
            let (source, target) = (boxes[route.from], boxes[route.to]);
            let (first, last) = (route.points[0], route.points[route.points.len() - 1]);
            assert!((first.x - source.right()).abs() < SLACK, "{name} does not start on the right border");
            assert!(source.y < first.y && first.y < source.bottom(), "{name} starts beside its source");
            assert!((last.x - target.x).abs() < SLACK, "{name} does not end on the left border");
            assert!(target.y < last.y && last.y < target.bottom(), "{name} ends beside its target");
            for pair in route.points.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                assert!(a.x < b.x, "{name} goes backwards or vertically: {a:?} {b:?}");
                // The straight chord, and the curve that is drawn, both stay out of boxes.
                let curve = bezier(a, b);
                let samples = (0..=64).map(|k| k as f64 / 64.0).flat_map(|t| {
                    let chord = Point { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) };
                    let s = 1.0 - t;
                    let on = |p: f64, c1: f64, c2: f64, q: f64| {
                        s * s * s * p + 3.0 * s * s * t * c1 + 3.0 * s * t * t * c2 + t * t * t * q
                    };
                    let drawn = Point { x: on(a.x, curve.0.x, curve.1.x, b.x), y: on(a.y, curve.0.y, curve.1.y, b.y) };
                    [chord, drawn]
                });
                for p in samples {
                    for (k, r) in boxes.iter().enumerate() {
                        let inside = r.x + SLACK < p.x && p.x < r.right() - SLACK && r.y < p.y && p.y < r.bottom();
                        assert!(!inside, "{name} passes through box {k} at {p:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn layouts_keep_their_invariants() {
        let examples = [
            Diagram { nodes: vec![], edges: vec![] },
            Diagram { nodes: vec![node("L", &["1×1"], NodeKind::Output)], edges: vec![] },
            Diagram {
                nodes: vec![
                    node("A", &[], NodeKind::Input),
                    node("c", &["unused"], NodeKind::Input),
                    node("L", &[], NodeKind::Output),
                ],
                edges: vec![(0, 2)],
            },
            backprop(),
            wide(20),
            deep(50),
            many_children(12),
            unrolled(8),
        ];
        for diagram in &examples {
            check_geometry(diagram);
        }
    }

    #[test]
    fn inputs_go_left_and_the_output_right() {
        let diagram = backprop();
        let layout = layout(&diagram);
        let x = |i: usize| layout.boxes[i].x + layout.boxes[i].width / 2.0;
        assert!(x(0) == x(1) && x(1) == x(2), "x, A and B share the first column");
        assert!((3..8).all(|i| x(i) < x(8)), "L is rightmost");
        // A skips three layers to reach w: it crosses them at one height.
        let to_w = layout.routes.iter().find(|r| (r.from, r.to) == (1, 7)).expect("A → w");
        assert!(to_w.points.len() >= 2 + 3 * 2);
        let mut heights: Vec<f64> = to_w.points.iter().map(|p| p.y).collect();
        heights.dedup();
        assert!(heights.len() <= 3, "A → w bends more than on leaving A and on reaching w: {heights:?}");
    }

    #[test]
    fn the_layout_is_deterministic_and_has_no_crossings_where_none_are_needed() {
        let diagram = backprop();
        assert_eq!(to_svg(&diagram), to_svg(&diagram));
        let edges = drawn_edges(&diagram);
        let mut graph = Layered::new(&diagram, &edges, &layers(&diagram, &edges));
        graph.reduce_crossings();
        assert_eq!(graph.crossings(), 0);
    }

    #[test]
    fn text_is_escaped_and_bad_edges_are_dropped() {
        let diagram = Diagram {
            nodes: vec![node("a<b & \"c\"", &["it's > 1"], NodeKind::Input), node("\u{1}", &[], NodeKind::Output)],
            edges: vec![(0, 1), (0, 1), (1, 0), (0, 7), (1, 1)],
        };
        let svg = to_svg(&diagram);
        assert!(svg.contains(">a&lt;b &amp; &quot;c&quot;</text>"));
        assert!(svg.contains(">it&#39;s &gt; 1</text>"));
        assert!(!svg.contains('\u{1}'));
        assert_eq!(svg.matches("<path d=").count(), 2, "one edge and the arrowhead");
        let dot = to_dot(&diagram);
        assert!(dot
            .contains("label=<<B>a&lt;b &amp; &quot;c&quot;</B><BR/><FONT POINT-SIZE=\"11\">it&#39;s &gt; 1</FONT>>"));
        assert_eq!(dot.matches("->").count(), 1);
    }

    #[test]
    fn separate_keeps_order_and_spacing_with_least_movement() {
        assert_eq!(separate(&[0.0, 0.0, 0.0], &[10.0, 10.0], &[1.0, 1.0, 1.0]), [-10.0, 0.0, 10.0]);
        assert_eq!(separate(&[0.0, 50.0, 20.0], &[10.0, 10.0], &[1.0, 1.0, 1.0]), [0.0, 30.0, 40.0]);
        assert_eq!(separate(&[5.0], &[], &[1.0]), [5.0]);
    }

    #[test]
    fn the_backprop_example_in_dot() {
        insta::with_settings!({ snapshot_path => "../../tests/diagram", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("backprop_dot", to_dot(&backprop()));
        });
    }

    fn random_diagram() -> impl Strategy<Value = Diagram> {
        (1usize..24).prop_flat_map(|n| {
            let titles = proptest::collection::vec("[a-zA-Z]{1,3}[₀-₉]?", n);
            let lines = proptest::collection::vec(proptest::collection::vec("[0-9a-z×‖ =.]{0,14}", 0..3), n);
            let edges = proptest::collection::vec((0..n, 0..n), 0..3 * n);
            (titles, lines, edges).prop_map(move |(titles, lines, edges)| {
                let edges: Vec<(usize, usize)> =
                    edges.into_iter().filter(|(a, b)| a != b).map(|(a, b)| (a.min(b), a.max(b))).collect();
                let nodes = titles
                    .iter()
                    .zip(&lines)
                    .enumerate()
                    .map(|(i, (title, lines))| {
                        let kind = if i + 1 == n {
                            NodeKind::Output
                        } else if edges.iter().all(|&(_, to)| to != i) {
                            NodeKind::Input
                        } else {
                            NodeKind::Intermediate
                        };
                        DiagramNode { title: title.clone(), lines: lines.clone(), kind }
                    })
                    .collect();
                Diagram { nodes, edges }
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn random_graphs_keep_the_layout_invariants(diagram in random_diagram()) {
            check_geometry(&diagram);
        }
    }
}
