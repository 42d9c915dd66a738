//! One agent per rank (in-process backend) gives bitwise the single-process simulation's
//! numbers, for every algorithm; messages are counted in bytes actually sent.
#![allow(clippy::unwrap_used, clippy::float_cmp)]

use std::time::Duration;

use gdlab_comm::{CommError, Communicator, FaultAction, FaultInjection, InProcess};
use gdlab_core::Seed;
use gdlab_decentral::{
    DecentralError, DecentralProblem, DgdConfig, Graph, LassoConfig, LassoMethod, MixOrder,
    MixingMatrix, SparseRegressionConfig, TruncVariant, Truncation, WeightRule,
};

const T: Duration = Duration::from_secs(60);

fn problem(m: usize, d: usize) -> DecentralProblem {
    SparseRegressionConfig {
        dim: d,
        sparsity: 3,
        n_agents: m,
        samples_per_agent: 12,
        ..Default::default()
    }
    .generate(Seed(11))
    .unwrap()
}

fn graphs() -> Vec<(Graph, WeightRule)> {
    vec![
        (Graph::ring(4).unwrap(), WeightRule::Metropolis),
        (
            Graph::erdos_renyi(5, 0.6, Seed(2)).unwrap(),
            WeightRule::LazyMaxDegree,
        ),
    ]
}

#[test]
fn dgd_variants_match_the_simulation_bitwise() {
    // d = 600 > 512 so the metric chunking is exercised across two chunks.
    let d = 600;
    let tr = |k, variant| Some(Truncation { k, variant });
    let cfgs = [
        DgdConfig {
            n_rounds: 40,
            init_scale: 1e-3,
            ..Default::default()
        },
        DgdConfig {
            n_rounds: 40,
            init_scale: 1e-3,
            order: MixOrder::Cta,
            ..Default::default()
        },
        DgdConfig {
            n_rounds: 40,
            init_scale: 1e-3,
            truncation: tr(5, TruncVariant::Paper),
            ..Default::default()
        },
        DgdConfig {
            n_rounds: 40,
            init_scale: 1e-3,
            truncation: tr(5, TruncVariant::MassPreserving),
            ..Default::default()
        },
    ];
    for (g, rule) in graphs() {
        let m = g.n_nodes();
        let p = problem(m, d);
        let w = MixingMatrix::new(&g, rule).unwrap();
        for cfg in cfgs {
            let serial = cfg.run(&p, &w).unwrap();
            let out = InProcess::run(m, T, |c| {
                let r = c.rank();
                cfg.run_agent(c, &w, &p.agents()[r], p.w_star())
            })
            .unwrap();
            for (i, o) in out.into_iter().enumerate() {
                let o = o.unwrap();
                assert_eq!(o.trace, serial.trace, "{cfg:?} rank {i}");
                assert_eq!(o.primary, serial.u[i * d..(i + 1) * d], "{cfg:?} u_{i}");
                assert_eq!(o.secondary, serial.v[i * d..(i + 1) * d], "{cfg:?} v_{i}");
                // Bytes actually sent per round: dense = 2 vectors × 8d bytes per neighbour;
                // truncated = 2 × (4 + 12·nnz) with nnz ≤ k.
                let deg = g.degree(i) as u64;
                let rounds = 40;
                assert_eq!(o.wire_algorithm.messages, rounds * deg);
                if cfg.truncation.is_some() {
                    assert!(o.wire_algorithm.bytes <= rounds * deg * 2 * (4 + 12 * 5));
                    assert!(o.wire_algorithm.bytes >= rounds * deg * 2 * 4);
                } else {
                    assert_eq!(o.wire_algorithm.bytes, rounds * deg * 2 * 8 * d as u64);
                }
                assert!(o.wire_total.bytes > o.wire_algorithm.bytes);
            }
        }
    }
}

#[test]
fn lasso_baselines_match_the_simulation_bitwise() {
    let d = 80;
    let methods = [
        LassoMethod::ProxCta { lambda: 0.05 },
        LassoMethod::ProxAtc {
            lambda: 0.05,
            prox_before_mixing: false,
        },
        LassoMethod::ProxAtc {
            lambda: 0.05,
            prox_before_mixing: true,
        },
        LassoMethod::NetLasso { radius: 3.0 },
    ];
    for (g, rule) in graphs() {
        let m = g.n_nodes();
        let p = problem(m, d);
        let w = MixingMatrix::new(&g, rule).unwrap();
        for method in methods {
            for truncate in [None, Some(4)] {
                let cfg = LassoConfig {
                    method,
                    step_size: 0.02,
                    n_rounds: 30,
                    truncate,
                };
                let serial = cfg.run(&p, &w).unwrap();
                let out = InProcess::run(m, T, |c| {
                    let r = c.rank();
                    cfg.run_agent(c, &w, &p.agents()[r], p.w_star())
                })
                .unwrap();
                for o in out {
                    assert_eq!(o.unwrap().trace, serial, "{cfg:?}");
                }
            }
        }
    }
}

#[test]
fn divergence_is_detected_on_every_rank_at_the_same_round() {
    let p = problem(4, 50);
    let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
    let cfg = DgdConfig {
        step_size: 50.0,
        init_scale: 1.0,
        n_rounds: 200,
        ..Default::default()
    };
    let serial = cfg.run(&p, &w).unwrap();
    assert!(serial.trace.diverged());
    let out = InProcess::run(4, T, |c| {
        let r = c.rank();
        cfg.run_agent(c, &w, &p.agents()[r], p.w_star())
    })
    .unwrap();
    for o in out {
        assert_eq!(o.unwrap().trace, serial.trace);
    }
}

#[test]
fn wrong_rank_count_and_a_failing_rank_are_clear_errors() {
    let p = problem(4, 30);
    let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
    let cfg = DgdConfig {
        n_rounds: 50,
        ..Default::default()
    };
    let out = InProcess::run(3, T, |c| {
        let r = c.rank();
        cfg.run_agent(c, &w, &p.agents()[r], p.w_star())
    })
    .unwrap();
    for o in out {
        assert!(o.unwrap_err().to_string().contains("number of ranks"));
    }
    // Rank 2 fails after 25 collectives (mid-run): every other rank ends with a
    // communication error naming a peer instead of waiting forever.
    let out = InProcess::run(4, T, |c| {
        let r = c.rank();
        let mut c = FaultInjection::new(c, (r == 2).then_some(25), FaultAction::Error);
        cfg.run_agent(&mut c, &w, &p.agents()[r], p.w_star())
    })
    .unwrap();
    for (r, o) in out.into_iter().enumerate() {
        match o.unwrap_err() {
            DecentralError::Comm(CommError::Backend(s)) => assert_eq!(r, 2, "{s}"),
            DecentralError::Comm(CommError::PeerGone { .. }) => assert_ne!(r, 2),
            e => panic!("rank {r}: unexpected {e}"),
        }
    }
}
