//! Attention control: the hook every attention layer calls, and the controllers built on it
//! (spec §4.1).
//!
//! A model that supports control calls [`attend`](crate::attention::attend) in each attention
//! layer with an [`AttnSite`] naming the layer. The sampler brackets every network evaluation
//! with [`AttentionController::begin_eval`] / [`AttentionController::end_eval`] and every
//! denoising step with [`AttentionController::end_step`]. Controllers are model-agnostic: they
//! see only sites, timesteps and tensors shaped `(B·heads, N, ·)`.
//!
//! | controller | what it does | paper |
//! |---|---|---|
//! | [`NoControl`] | nothing (identity) | — |
//! | [`Compose`] | applies several controllers in order | — |
//! | [`AttentionStore`] | records logits or probabilities per site | Prompt-to-Prompt store |
//! | [`AttentionReplace`] | injects recorded logits (GT-map oracle) | Zero-to-Hero §4.1 |
//! | [`MutualSelfAttention`] | target K/V ← source K/V in a window, on chosen layers | §4.4 (MasaCtrl) |
//! | [`AttentionMapFilter`] | in-step pooling over resamples + cross-step history blending | §4.2–4.3, App. §8.5 |

use std::collections::BTreeMap;

use candle_core::{Tensor, D};

use crate::error::{DiffusionError, Result};

/// Self- or cross-attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttnKind {
    /// Queries, keys and values from the same tokens (`attn1`).
    SelfAttn,
    /// Keys and values from a context (`attn2`).
    CrossAttn,
}

/// Where in a U-shaped network an attention layer sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UNetPart {
    /// Encoder level `i` (diffusers `down_blocks.i`).
    Down(usize),
    /// The bottleneck (`mid_block`).
    Mid,
    /// Decoder level `i` (diffusers `up_blocks.i`).
    Up(usize),
}

/// The identity of one attention layer (the analogue of a diffusers processor key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttnSite {
    /// Position of the layer in the network's forward order, counting self- and
    /// cross-attention layers together; unique per layer.
    pub ordinal: usize,
    /// Part of the network.
    pub part: UNetPart,
    /// Index of the layer inside its part.
    pub index: usize,
    /// Token grid `(H, W)` of the queries.
    pub grid: (usize, usize),
    /// Self or cross attention.
    pub kind: AttnKind,
    /// Number of heads (the leading dimension of hook tensors is `B·heads`).
    pub heads: usize,
}

/// Where the sampler is when a network evaluation begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EvalCtx {
    /// Index of the denoising step (0-based).
    pub step: usize,
    /// The step's input timestep τ_k (absolute, 0..T).
    pub t: usize,
    /// Resampling iteration, 1-based (`1..=r_total`).
    pub r: usize,
    /// Evaluations in this step (R_k).
    pub r_total: usize,
}

/// An inclusive window of absolute timesteps `[min_t, max_t]`; empty when `min_t > max_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    /// Smallest timestep inside.
    pub min_t: usize,
    /// Largest timestep inside.
    pub max_t: usize,
}

impl TimeWindow {
    /// `[min_t, max_t]`.
    #[must_use]
    pub const fn new(min_t: usize, max_t: usize) -> Self {
        TimeWindow { min_t, max_t }
    }
    /// The empty window (a controller with it is disabled).
    #[must_use]
    pub const fn empty() -> Self {
        TimeWindow { min_t: 1, max_t: 0 }
    }
    /// Whether `t` lies in the window.
    #[must_use]
    pub fn contains(&self, t: usize) -> bool {
        self.min_t <= t && t <= self.max_t
    }
}

/// Which attention layers a controller acts on.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum SiteFilter {
    /// Every self-attention layer (the default).
    #[default]
    AllSelf,
    /// Every cross-attention layer.
    AllCross,
    /// Every layer.
    All,
    /// No layer.
    Nothing,
    /// Self-attention layers with these ordinals.
    SelfOrdinals(Vec<usize>),
    /// Self-attention layers in these parts.
    SelfParts(Vec<UNetPart>),
}

impl SiteFilter {
    /// Whether the filter selects `site`.
    #[must_use]
    pub fn matches(&self, site: &AttnSite) -> bool {
        let is_self = site.kind == AttnKind::SelfAttn;
        match self {
            SiteFilter::AllSelf => is_self,
            SiteFilter::AllCross => !is_self,
            SiteFilter::All => true,
            SiteFilter::Nothing => false,
            SiteFilter::SelfOrdinals(o) => is_self && o.contains(&site.ordinal),
            SiteFilter::SelfParts(p) => is_self && p.contains(&site.part),
        }
    }
}

/// The hook threaded through every attention layer.
///
/// Hook tensors are shaped `(B·heads, N_q, ·)`: `q` is `(B·h, N_q, d)`, `k`/`v` are
/// `(B·h, N_k, d)`, logits and probabilities `(B·h, N_q, N_k)`. Logits are the scaled
/// pre-softmax scores `q·kᵀ·d^{-1/2}`. Every method defaults to the identity.
pub trait AttentionController {
    /// A network evaluation begins.
    fn begin_eval(&mut self, _ctx: EvalCtx) {}
    /// May substitute keys and values (MSA).
    ///
    /// # Errors
    /// Implementation-specific (shape mismatches, tensor errors).
    fn on_qkv(
        &mut self,
        _site: &AttnSite,
        _q: &Tensor,
        k: Tensor,
        v: Tensor,
    ) -> Result<(Tensor, Tensor)> {
        Ok((k, v))
    }
    /// Receives the pre-softmax logits; returns the map that is softmaxed.
    ///
    /// # Errors
    /// Implementation-specific.
    fn on_logits(&mut self, _site: &AttnSite, logits: Tensor) -> Result<Tensor> {
        Ok(logits)
    }
    /// Receives the post-softmax probabilities; returns the map multiplied with `v`.
    ///
    /// # Errors
    /// Implementation-specific.
    fn on_probs(&mut self, _site: &AttnSite, probs: Tensor) -> Result<Tensor> {
        Ok(probs)
    }
    /// The network evaluation ended.
    fn end_eval(&mut self) {}
    /// The denoising step with input timestep `t` ended (after its last resample).
    fn end_step(&mut self, _t: usize) {}
}

/// The identity controller.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoControl;

impl AttentionController for NoControl {}

/// Several controllers applied in order (each hook output feeds the next controller).
pub struct Compose<'a> {
    parts: Vec<&'a mut dyn AttentionController>,
}

impl std::fmt::Debug for Compose<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Compose({} controllers)", self.parts.len())
    }
}

impl<'a> Compose<'a> {
    /// Composes `parts`, applied first to last. The caller keeps ownership, so a store can
    /// be read after sampling.
    #[must_use]
    pub fn new(parts: Vec<&'a mut dyn AttentionController>) -> Self {
        Compose { parts }
    }
}

impl AttentionController for Compose<'_> {
    fn begin_eval(&mut self, ctx: EvalCtx) {
        for p in &mut self.parts {
            p.begin_eval(ctx);
        }
    }
    fn on_qkv(
        &mut self,
        site: &AttnSite,
        q: &Tensor,
        mut k: Tensor,
        mut v: Tensor,
    ) -> Result<(Tensor, Tensor)> {
        for p in &mut self.parts {
            (k, v) = p.on_qkv(site, q, k, v)?;
        }
        Ok((k, v))
    }
    fn on_logits(&mut self, site: &AttnSite, mut logits: Tensor) -> Result<Tensor> {
        for p in &mut self.parts {
            logits = p.on_logits(site, logits)?;
        }
        Ok(logits)
    }
    fn on_probs(&mut self, site: &AttnSite, mut probs: Tensor) -> Result<Tensor> {
        for p in &mut self.parts {
            probs = p.on_probs(site, probs)?;
        }
        Ok(probs)
    }
    fn end_eval(&mut self) {
        for p in &mut self.parts {
            p.end_eval();
        }
    }
    fn end_step(&mut self, t: usize) {
        for p in &mut self.parts {
            p.end_step(t);
        }
    }
}

/// What an [`AttentionStore`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredMap {
    /// Pre-softmax logits (after any earlier controller in a [`Compose`]).
    Logits,
    /// Post-softmax probabilities.
    Probs,
}

/// Records the attention maps of the selected sites (Prompt-to-Prompt's `AttentionStore`).
///
/// Keeps the latest map per site ordinal and, optionally, every map with its [`EvalCtx`]
/// (for visualisations). Never changes what the layer computes.
#[derive(Debug)]
pub struct AttentionStore {
    sites: SiteFilter,
    what: StoredMap,
    window: TimeWindow,
    keep_all: bool,
    ctx: Option<EvalCtx>,
    latest: BTreeMap<usize, Tensor>,
    all: Vec<(EvalCtx, usize, Tensor)>,
}

impl AttentionStore {
    /// A store of `what` at `sites` for evaluations whose timestep is in `window`.
    #[must_use]
    pub fn new(sites: SiteFilter, what: StoredMap, window: TimeWindow) -> Self {
        AttentionStore {
            sites,
            what,
            window,
            keep_all: false,
            ctx: None,
            latest: BTreeMap::new(),
            all: Vec::new(),
        }
    }
    /// Also keep every recorded map (memory grows with steps × sites).
    #[must_use]
    pub fn keep_all(mut self) -> Self {
        self.keep_all = true;
        self
    }
    /// The latest map per site ordinal.
    #[must_use]
    pub fn latest(&self) -> &BTreeMap<usize, Tensor> {
        &self.latest
    }
    /// Takes the latest maps, leaving the store empty.
    pub fn take_latest(&mut self) -> BTreeMap<usize, Tensor> {
        std::mem::take(&mut self.latest)
    }
    /// Every recorded `(ctx, ordinal, map)` when [`AttentionStore::keep_all`] was set.
    #[must_use]
    pub fn all(&self) -> &[(EvalCtx, usize, Tensor)] {
        &self.all
    }
    fn record(&mut self, site: &AttnSite, map: &Tensor) {
        let in_window = self.ctx.is_none_or(|c| self.window.contains(c.t));
        if !in_window || !self.sites.matches(site) {
            return;
        }
        self.latest.insert(site.ordinal, map.clone());
        if self.keep_all {
            if let Some(c) = self.ctx {
                self.all.push((c, site.ordinal, map.clone()));
            }
        }
    }
}

impl AttentionController for AttentionStore {
    fn begin_eval(&mut self, ctx: EvalCtx) {
        self.ctx = Some(ctx);
    }
    fn on_logits(&mut self, site: &AttnSite, logits: Tensor) -> Result<Tensor> {
        if self.what == StoredMap::Logits {
            self.record(site, &logits);
        }
        Ok(logits)
    }
    fn on_probs(&mut self, site: &AttnSite, probs: Tensor) -> Result<Tensor> {
        if self.what == StoredMap::Probs {
            self.record(site, &probs);
        }
        Ok(probs)
    }
}

/// Replaces the logits of the selected self-attention sites by recorded ones (the GT-map
/// oracle of spec §2.7: softmax of the recorded logits equals the recorded probabilities).
///
/// Disabled (the identity) when the window is empty or no map is recorded for a site.
#[derive(Debug)]
pub struct AttentionReplace {
    maps: BTreeMap<usize, Tensor>,
    window: TimeWindow,
    ctx: Option<EvalCtx>,
}

impl AttentionReplace {
    /// Injects `maps` (site ordinal → logits) at evaluations whose timestep is in `window`.
    #[must_use]
    pub fn new(maps: BTreeMap<usize, Tensor>, window: TimeWindow) -> Self {
        AttentionReplace {
            maps,
            window,
            ctx: None,
        }
    }
}

impl AttentionController for AttentionReplace {
    fn begin_eval(&mut self, ctx: EvalCtx) {
        self.ctx = Some(ctx);
    }
    fn on_logits(&mut self, site: &AttnSite, logits: Tensor) -> Result<Tensor> {
        let active = self.ctx.is_some_and(|c| self.window.contains(c.t));
        if !active || site.kind != AttnKind::SelfAttn {
            return Ok(logits);
        }
        match self.maps.get(&site.ordinal) {
            None => Ok(logits),
            Some(m) if m.dims() == logits.dims() => Ok(m.clone()),
            Some(m) => Err(DiffusionError::Shape {
                op: format!("AttentionReplace at site {}", site.ordinal),
                expected: format!("{:?}", logits.dims()),
                got: format!("{:?}", m.dims()),
            }),
        }
    }
}

/// Early-stage mutual self-attention (spec §2.5): in the window and on the chosen
/// self-attention layers, each target row's keys and values are **replaced** by those of
/// its paired source row; source rows are unchanged.
///
/// The pairing is given per batch row: `source_of[b] = Some(s)` makes row `b` attend with
/// row `s`'s keys and values.
#[derive(Debug, Clone)]
pub struct MutualSelfAttention {
    window: TimeWindow,
    sites: SiteFilter,
    source_of: Vec<Option<usize>>,
    ctx: Option<EvalCtx>,
}

impl MutualSelfAttention {
    /// MSA with an explicit pairing of batch rows.
    ///
    /// # Errors
    /// [`DiffusionError::Shape`] if a source index is out of range or is itself a target.
    pub fn new(
        window: TimeWindow,
        sites: SiteFilter,
        source_of: Vec<Option<usize>>,
    ) -> Result<Self> {
        for (b, s) in source_of.iter().enumerate() {
            if let Some(s) = *s {
                if s >= source_of.len() || source_of[s].is_some() {
                    return Err(DiffusionError::Shape {
                        op: format!("MutualSelfAttention pairing of row {b}"),
                        expected: format!(
                            "a source row < {} that is not a target",
                            source_of.len()
                        ),
                        got: format!("{s}"),
                    });
                }
            }
        }
        Ok(MutualSelfAttention {
            window,
            sites,
            source_of,
            ctx: None,
        })
    }

    /// The pairing of the layout `halves × [source(n), target(n)]` (e.g. CFG halves
    /// `[src_u, tgt_u, src_c, tgt_c]`): target `i` of each half uses source `i` of the
    /// same half.
    ///
    /// # Errors
    /// As [`MutualSelfAttention::new`] (never for this layout).
    pub fn source_target(
        window: TimeWindow,
        sites: SiteFilter,
        n: usize,
        halves: usize,
    ) -> Result<Self> {
        let mut map = Vec::with_capacity(2 * n * halves);
        for h in 0..halves {
            map.extend((0..n).map(|_| None));
            map.extend((0..n).map(|i| Some(h * 2 * n + i)));
        }
        Self::new(window, sites, map)
    }
}

impl AttentionController for MutualSelfAttention {
    fn begin_eval(&mut self, ctx: EvalCtx) {
        self.ctx = Some(ctx);
    }
    fn on_qkv(
        &mut self,
        site: &AttnSite,
        _q: &Tensor,
        k: Tensor,
        v: Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let active = self.ctx.is_some_and(|c| self.window.contains(c.t));
        if !active || site.kind != AttnKind::SelfAttn || !self.sites.matches(site) {
            return Ok((k, v));
        }
        let rows = self.source_of.len() * site.heads;
        if k.dim(0)? != rows {
            return Err(DiffusionError::Shape {
                op: format!("MutualSelfAttention at site {}", site.ordinal),
                expected: format!(
                    "{rows} rows (batch {} × {} heads)",
                    self.source_of.len(),
                    site.heads
                ),
                got: format!("{}", k.dim(0)?),
            });
        }
        let mut idx = Vec::with_capacity(rows);
        for (b, s) in self.source_of.iter().enumerate() {
            let from = s.unwrap_or(b);
            idx.extend((0..site.heads).map(|j| (from * site.heads + j) as u32));
        }
        let idx = Tensor::from_vec(idx, rows, k.device())?;
        Ok((k.index_select(&idx, 0)?, v.index_select(&idx, 0)?))
    }
}

/// The in-step aggregation `f` over the resampling iterations (spec §2.4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PoolFn {
    /// Element-wise minimum with the previous filtered maps (the paper's choice).
    Min,
    /// `M̃_r = (M_r + Σ_{k<r} M̃_k) / r`.
    Mean,
    /// `M̃_r = α_i·M_r + (1 − α_i)·M̃_{r−1}`.
    Ema(f64),
}

/// Configuration of [`AttentionMapFilter`]; `Default` is the paper's (spec §2.1, App. §8.5).
#[derive(Clone, Debug, PartialEq)]
pub struct AmfConfig {
    /// In-step pooling function (paper: min).
    pub pool: PoolFn,
    /// Weight α_c of the current (pooled) map in the history blend (paper: 0.2).
    pub alpha_c: f64,
    /// EMA weight α_h of the newest map when updating the history (paper: 0.5).
    pub alpha_h: f64,
    /// Timesteps where in-step pooling applies (paper: [800, 1000]).
    pub in_step_window: TimeWindow,
    /// Timesteps where the history is blended and updated (paper: [600, 1000]).
    pub cross_step_window: TimeWindow,
    /// Layers filtered (default: all self-attention layers; cross-attention never).
    pub sites: SiteFilter,
}

impl Default for AmfConfig {
    fn default() -> Self {
        AmfConfig {
            pool: PoolFn::Min,
            alpha_c: 0.2,
            alpha_h: 0.5,
            in_step_window: TimeWindow::new(800, 1000),
            cross_step_window: TimeWindow::new(600, 1000),
            sites: SiteFilter::AllSelf,
        }
    }
}

impl AmfConfig {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] if `alpha_c`, `alpha_h` or an EMA weight is outside
    /// [0, 1].
    pub fn build(self) -> Result<AttentionMapFilter> {
        let unit = |field, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(DiffusionError::OutOfRange {
                    field,
                    value: v,
                    allowed: "[0, 1]",
                })
            }
        };
        unit("alpha_c", self.alpha_c)?;
        unit("alpha_h", self.alpha_h)?;
        if let PoolFn::Ema(a) = self.pool {
            unit("pool.ema_alpha", a)?;
        }
        Ok(AttentionMapFilter {
            cfg: self,
            ctx: None,
            state: BTreeMap::new(),
        })
    }
}

#[derive(Debug, Default)]
struct LayerState {
    /// Running pool of this step's filtered maps (min, sum or last, by [`PoolFn`]).
    pool: Option<Tensor>,
    /// The history `H` (cross-step).
    history: Option<Tensor>,
    /// The last filtered map of the current step.
    last: Option<Tensor>,
}

/// Attention-map filtering (spec §2.4, the appendix form), per self-attention layer ℓ and
/// evaluation `(t, r)`:
///
/// $$ P = f(M_{t,r}, \tilde M_{t,1..r-1}) \text{ in the in-step window, else } M_{t,r} $$
/// $$ \tilde M_{t,r} = \alpha_c P + (1-\alpha_c) H_{t+1} \text{ in the cross-step window (if } H \text{ exists), else } P $$
/// $$ H_t = \alpha_h \tilde M_{t,R} + (1-\alpha_h) H_{t+1} \quad (H_T = \tilde M_{T,R}) $$
///
/// The history update happens in [`AttentionController::end_step`], after the last
/// resampling iteration of the step. Pre-softmax logits are filtered, per head and batch
/// row (element-wise, so CFG halves stay separate as long as the batch layout is fixed).
#[derive(Debug)]
pub struct AttentionMapFilter {
    cfg: AmfConfig,
    ctx: Option<EvalCtx>,
    state: BTreeMap<usize, LayerState>,
}

impl AttentionMapFilter {
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &AmfConfig {
        &self.cfg
    }
    /// Site ordinals that currently hold a history map.
    #[must_use]
    pub fn sites_with_history(&self) -> Vec<usize> {
        self.state
            .iter()
            .filter(|(_, s)| s.history.is_some())
            .map(|(o, _)| *o)
            .collect()
    }
}

fn blend(a: &Tensor, wa: f64, b: &Tensor, wb: f64) -> Result<Tensor> {
    Ok((a.affine(wa, 0.0)? + b.affine(wb, 0.0)?)?)
}

impl AttentionController for AttentionMapFilter {
    fn begin_eval(&mut self, ctx: EvalCtx) {
        self.ctx = Some(ctx);
    }

    fn on_logits(&mut self, site: &AttnSite, logits: Tensor) -> Result<Tensor> {
        if site.kind != AttnKind::SelfAttn || !self.cfg.sites.matches(site) {
            return Ok(logits);
        }
        let Some(ctx) = self.ctx else {
            return Err(DiffusionError::Protocol {
                controller: "AttentionMapFilter",
                message: "on_logits called before begin_eval".into(),
            });
        };
        let in_step = self.cfg.in_step_window.contains(ctx.t);
        let cross = self.cfg.cross_step_window.contains(ctx.t);
        if !in_step && !cross {
            return Ok(logits);
        }
        let st = self.state.entry(site.ordinal).or_default();
        // In-step pooling against this step's earlier filtered maps.
        let pooled = match (&st.pool, in_step && ctx.r > 1) {
            (Some(prev), true) => match self.cfg.pool {
                PoolFn::Min => logits.minimum(prev)?,
                PoolFn::Mean => (logits.add(prev)?).affine(1.0 / ctx.r as f64, 0.0)?,
                PoolFn::Ema(a) => blend(&logits, a, prev, 1.0 - a)?,
            },
            _ => logits,
        };
        // Cross-step blending with the history.
        let filtered = match (&st.history, cross) {
            (Some(h), true) => blend(&pooled, self.cfg.alpha_c, h, 1.0 - self.cfg.alpha_c)?,
            _ => pooled,
        };
        if in_step {
            st.pool = Some(match (&st.pool, ctx.r > 1, self.cfg.pool) {
                (Some(prev), true, PoolFn::Min) => prev.minimum(&filtered)?,
                (Some(prev), true, PoolFn::Mean) => prev.add(&filtered)?,
                _ => filtered.clone(),
            });
        }
        st.last = Some(filtered.clone());
        Ok(filtered)
    }

    fn end_step(&mut self, t: usize) {
        let cross = self.cfg.cross_step_window.contains(t);
        let a = self.cfg.alpha_h;
        for st in self.state.values_mut() {
            st.pool = None;
            let last = st.last.take();
            if !cross {
                // Outside both windows the history is no longer needed (spec §2.4).
                if !self.cfg.in_step_window.contains(t) {
                    st.history = None;
                }
                continue;
            }
            if let Some(m) = last {
                st.history = Some(match &st.history {
                    // `blend` only fails on a shape mismatch, impossible for maps of one
                    // site; fall back to the newest map rather than panicking.
                    Some(h) => blend(&m, a, h, 1.0 - a).unwrap_or(m),
                    None => m,
                });
            }
        }
    }
}

/// Softmax over the last dimension (the attention normalisation).
///
/// # Errors
/// Tensor errors from candle.
pub fn softmax_last(x: &Tensor) -> Result<Tensor> {
    if x.track_op() {
        Ok(candle_nn::ops::softmax(x, D::Minus1)?)
    } else {
        // No gradient needed: candle's fused kernel (it has no backward pass).
        Ok(candle_nn::ops::softmax_last_dim(&x.contiguous()?)?)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bitwise comparisons of deterministic outputs and exact hand values
mod tests {
    use super::*;
    use candle_core::Device;

    fn site(ordinal: usize, kind: AttnKind, part: UNetPart) -> AttnSite {
        AttnSite {
            ordinal,
            part,
            index: 0,
            grid: (1, 2),
            kind,
            heads: 1,
        }
    }
    fn t(v: &[f32]) -> Tensor {
        Tensor::new(v, &Device::Cpu)
            .unwrap()
            .reshape((1, 1, v.len()))
            .unwrap()
    }
    fn v(x: &Tensor) -> Vec<f32> {
        x.flatten_all().unwrap().to_vec1().unwrap()
    }
    fn ctx(step: usize, t: usize, r: usize, r_total: usize) -> EvalCtx {
        EvalCtx {
            step,
            t,
            r,
            r_total,
        }
    }

    #[test]
    fn amf_follows_the_appendix_rule() {
        // Step 0 (t = 900, R = 2): r=1 raw [1, 4] → M̃ = [1, 4] (no history);
        // r=2 raw [2, 3] → P = min([2,3],[1,4]) = [1, 3]; M̃ = P; H = [1, 3].
        // Step 1 (t = 700: cross-step only, R = 1): raw [5, 0] → M̃ = 0.2·[5,0] + 0.8·[1,3]
        // = [1.8, 2.4]; H = 0.5·[1.8, 2.4] + 0.5·[1, 3] = [1.4, 2.7].
        // Step 2 (t = 500: outside): raw passes through; history dropped.
        let mut amf = AmfConfig::default().build().unwrap();
        let s = site(0, AttnKind::SelfAttn, UNetPart::Mid);
        amf.begin_eval(ctx(0, 900, 1, 2));
        assert_eq!(v(&amf.on_logits(&s, t(&[1.0, 4.0])).unwrap()), [1.0, 4.0]);
        amf.begin_eval(ctx(0, 900, 2, 2));
        assert_eq!(v(&amf.on_logits(&s, t(&[2.0, 3.0])).unwrap()), [1.0, 3.0]);
        amf.end_step(900);
        amf.begin_eval(ctx(1, 700, 1, 1));
        let m = v(&amf.on_logits(&s, t(&[5.0, 0.0])).unwrap());
        assert!(
            (m[0] - 1.8).abs() < 1e-6 && (m[1] - 2.4).abs() < 1e-6,
            "{m:?}"
        );
        amf.end_step(700);
        amf.begin_eval(ctx(2, 600, 1, 1));
        // t = 600 is still in [600, 1000]: blend with H = [1.4, 2.7].
        let m = v(&amf.on_logits(&s, t(&[0.0, 0.0])).unwrap());
        assert!(
            (m[0] - 1.12).abs() < 1e-6 && (m[1] - 2.16).abs() < 1e-6,
            "{m:?}"
        );
        amf.end_step(600);
        amf.begin_eval(ctx(3, 500, 1, 1));
        assert_eq!(v(&amf.on_logits(&s, t(&[7.0, 8.0])).unwrap()), [7.0, 8.0]);
        amf.end_step(500);
        assert!(amf.sites_with_history().is_empty());
        // Cross-attention is never filtered.
        let c = site(1, AttnKind::CrossAttn, UNetPart::Mid);
        amf.begin_eval(ctx(0, 900, 2, 2));
        assert_eq!(v(&amf.on_logits(&c, t(&[9.0])).unwrap()), [9.0]);
    }

    #[test]
    fn amf_mean_and_ema_pools() {
        let s = site(0, AttnKind::SelfAttn, UNetPart::Mid);
        let cfg = |pool| AmfConfig {
            pool,
            cross_step_window: TimeWindow::empty(),
            ..AmfConfig::default()
        };
        for (pool, want) in [(PoolFn::Mean, [2.0, 2.5]), (PoolFn::Ema(0.25), [1.5, 2.75])] {
            let mut amf = cfg(pool).build().unwrap();
            amf.begin_eval(ctx(0, 900, 1, 2));
            amf.on_logits(&s, t(&[1.0, 3.0])).unwrap();
            amf.begin_eval(ctx(0, 900, 2, 2));
            // Mean: ([3, 2] + [1, 3]) / 2; EMA: 0.25·[3, 2] + 0.75·[1, 3].
            assert_eq!(v(&amf.on_logits(&s, t(&[3.0, 2.0])).unwrap()), want);
        }
        assert!(AmfConfig {
            alpha_c: 1.5,
            ..AmfConfig::default()
        }
        .build()
        .is_err());
    }

    #[test]
    fn disabled_controllers_are_the_identity() {
        let s = site(0, AttnKind::SelfAttn, UNetPart::Up(1));
        let x = t(&[0.3, -1.2]);
        let off_amf = AmfConfig {
            in_step_window: TimeWindow::empty(),
            cross_step_window: TimeWindow::empty(),
            ..AmfConfig::default()
        };
        let mut amf = off_amf.build().unwrap();
        let mut msa =
            MutualSelfAttention::source_target(TimeWindow::empty(), SiteFilter::AllSelf, 1, 1)
                .unwrap();
        let mut rep =
            AttentionReplace::new(BTreeMap::from([(0, t(&[5.0, 5.0]))]), TimeWindow::empty());
        let mut store = AttentionStore::new(
            SiteFilter::AllSelf,
            StoredMap::Logits,
            TimeWindow::new(0, 1000),
        );
        let mut none = NoControl;
        let mut all = Compose::new(vec![&mut amf, &mut msa, &mut rep, &mut store, &mut none]);
        all.begin_eval(ctx(0, 900, 1, 1));
        let kv = Tensor::new(&[[[1f32], [2.0]]], &Device::Cpu).unwrap();
        let (k2, v2) = all.on_qkv(&s, &kv, kv.clone(), kv.clone()).unwrap();
        assert_eq!(v(&k2), v(&kv));
        assert_eq!(v(&v2), v(&kv));
        assert_eq!(v(&all.on_logits(&s, x.clone()).unwrap()), v(&x));
        assert_eq!(v(&all.on_probs(&s, x.clone()).unwrap()), v(&x));
        all.end_eval();
        all.end_step(900);
        drop(all);
        assert_eq!(v(&store.latest()[&0]), v(&x)); // the store recorded, changed nothing
    }

    #[test]
    fn msa_replaces_target_keys_with_source_keys_in_its_window() {
        // Batch [src_u, tgt_u, src_c, tgt_c] (n = 1, 2 halves), 2 heads: rows are
        // (batch·heads) = 8; the value of row i is i.
        let mut msa = MutualSelfAttention::source_target(
            TimeWindow::new(600, 1000),
            SiteFilter::SelfParts(vec![UNetPart::Up(1)]),
            1,
            2,
        )
        .unwrap();
        let mut s = site(0, AttnKind::SelfAttn, UNetPart::Up(1));
        s.heads = 2;
        let k = Tensor::arange(0f32, 8.0, &Device::Cpu)
            .unwrap()
            .reshape((8, 1, 1))
            .unwrap();
        msa.begin_eval(ctx(0, 700, 1, 1));
        let (k2, _) = msa.on_qkv(&s, &k, k.clone(), k.clone()).unwrap();
        assert_eq!(v(&k2), [0.0, 1.0, 0.0, 1.0, 4.0, 5.0, 4.0, 5.0]);
        // Outside the window or on another part: unchanged.
        msa.begin_eval(ctx(5, 500, 1, 1));
        assert_eq!(
            v(&msa.on_qkv(&s, &k, k.clone(), k.clone()).unwrap().0),
            v(&k)
        );
        let other = site(0, AttnKind::SelfAttn, UNetPart::Mid);
        msa.begin_eval(ctx(0, 700, 1, 1));
        let mut o2 = other.clone();
        o2.heads = 2;
        assert_eq!(
            v(&msa.on_qkv(&o2, &k, k.clone(), k.clone()).unwrap().0),
            v(&k)
        );
        assert!(
            MutualSelfAttention::new(TimeWindow::empty(), SiteFilter::AllSelf, vec![Some(5)])
                .is_err()
        );
    }

    #[test]
    fn replace_injects_recorded_logits() {
        let s = site(3, AttnKind::SelfAttn, UNetPart::Mid);
        let mut rep = AttentionReplace::new(
            BTreeMap::from([(3, t(&[5.0, 6.0]))]),
            TimeWindow::new(0, 999),
        );
        rep.begin_eval(ctx(0, 10, 1, 1));
        assert_eq!(v(&rep.on_logits(&s, t(&[0.0, 0.0])).unwrap()), [5.0, 6.0]);
        assert!(rep.on_logits(&s, t(&[0.0, 0.0, 1.0])).is_err());
    }
}
