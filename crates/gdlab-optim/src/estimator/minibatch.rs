use gdlab_core::objective::StochasticOracle;
use gdlab_core::GdRng;

use super::{EstimateInfo, GradientEstimator};

/// The plain stochastic gradient `v_t = ∇f(x_t; ξ_t)` on a fresh minibatch of `batch_size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minibatch {
    /// Samples per step (≥ 1).
    pub batch_size: usize,
}

impl<O: StochasticOracle + ?Sized> GradientEstimator<O> for Minibatch {
    type State = ();

    fn init(&self, _x0: &[f64]) {}

    fn estimate(
        &self,
        oracle: &O,
        _: &mut (),
        x: &[f64],
        rng: &mut GdRng,
        out: &mut [f64],
    ) -> EstimateInfo {
        let xi = oracle.draw(self.batch_size, rng);
        EstimateInfo {
            loss: oracle.loss_grad_at(&xi, x, out),
            n_component_grads: self.batch_size as u64,
        }
    }
}
