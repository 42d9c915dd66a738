//! The configurations shared by the `distributed` and `mpi` end-to-end tests.

/// DGD, T-DGD, CGD and NetLASSO on a ring of 4 agents.
pub(crate) const DGD_RING: &str = r#"{"graph": {"kind": "ring", "n_nodes": 4},
  "problem": {"dim": 300, "sparsity": 3, "n_agents": 4, "samples_per_agent": 20, "noise_std": 0.2, "magnitude": 1.0},
  "algorithms": [{"algorithm": "dgd", "step_size": 0.05, "init_scale": 1e-4, "n_rounds": 200},
                 {"algorithm": "dgd", "label": "tdgd", "step_size": 0.05, "init_scale": 1e-4, "n_rounds": 200, "truncation": {"k": 3}},
                 {"algorithm": "cgd", "step_size": 0.05, "init_scale": 1e-4, "n_rounds": 200},
                 {"algorithm": "lasso", "method": {"method": "net_lasso", "radius": 3.0}, "step_size": 0.01, "n_rounds": 200}],
  "seed": 5}"#;

/// SSVR-MV Option 1 with 4 workers on a small logistic finite sum.
pub(crate) const SSVR_MV: &str = r#"{"optimizer": {"n_workers": 4, "method": {"kind": "ssvr_mv", "option": "one", "beta": 0.5},
   "learning_rate": 0.002, "batch_size": 1, "n_steps": 300},
  "data": {"generate": {"n_samples": 400, "dim": 20}}, "radius_factor": 4.0, "record_every": 10, "seed": 3}"#;
