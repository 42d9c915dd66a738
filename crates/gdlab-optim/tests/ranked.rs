//! Majority vote with one worker per rank (in-process backend) against the simulation.
#![allow(clippy::unwrap_used, clippy::float_cmp)]

use std::time::Duration;

use gdlab_comm::{CommError, Communicator, FaultAction, FaultInjection, InProcess};
use gdlab_core::objective::DiagonalQuadraticSum;
use gdlab_core::runner::Every;
use gdlab_core::Seed;
use gdlab_optim::majority_vote::{
    split_indices, GlobalEval, MajorityVoteConfig, MajorityVoteMethod, RankedError, Shard,
    ShardSplit, SsvrMvOption,
};
use rand::Rng;

const T: Duration = Duration::from_secs(60);

/// 40 components in 6 dimensions; coordinate 5 has zero curvature everywhere, so its
/// gradient is exactly 0 and signSGD sends zeros (the packed zero list is exercised).
fn problem() -> DiagonalQuadraticSum {
    let mut rng = Seed(3).rng();
    let curvatures = (0..40)
        .map(|_| {
            (0..6)
                .map(|k| {
                    if k == 5 {
                        0.0
                    } else {
                        rng.random_range(0.5..1.5)
                    }
                })
                .collect()
        })
        .collect();
    let centres = (0..40)
        .map(|_| (0..6).map(|_| rng.random_range(-2.0..2.0)).collect())
        .collect();
    DiagonalQuadraticSum {
        curvatures,
        centres,
    }
}

fn methods() -> Vec<MajorityVoteMethod> {
    vec![
        MajorityVoteMethod::SignSgdMv,
        MajorityVoteMethod::SsvrMv {
            option: SsvrMvOption::One,
            beta: 0.5,
            radius: 3.0,
        },
        MajorityVoteMethod::SsvrMv {
            option: SsvrMvOption::Two,
            beta: 0.3,
            radius: 2.0,
        },
    ]
}

#[test]
fn ranked_run_equals_the_simulation_bitwise() {
    let f = problem();
    let x0 = vec![1.5; 6];
    for n in [1, 4, 5] {
        let idx = split_indices(40, n, &ShardSplit::Homogeneous { seed: Seed(7) }).unwrap();
        let shards = Shard::all(&f, &idx).unwrap();
        for method in methods() {
            let mv = MajorityVoteConfig {
                n_workers: n,
                method,
                learning_rate: 0.01,
                batch_size: 2,
                n_steps: 120,
            }
            .build()
            .unwrap();
            let serial = mv.run(&f, &shards, &x0, Seed(9), Every::N(7)).unwrap();
            assert!(!serial.diverged());
            let out = InProcess::run(n, T, |c| {
                let r = c.rank();
                let g = GlobalEval::Root((r == 0).then_some(&f));
                mv.run_worker(c, &shards[r], &x0, Seed(9), Every::N(7), g)
            })
            .unwrap();
            for (r, o) in out.iter().enumerate() {
                let o = o.as_ref().unwrap();
                assert_eq!(o.x, serial.x, "{method:?} n = {n} rank {r}");
                assert_eq!(o.outcome.is_some(), r == 0);
                // Uplink: one message per worker per round (rank 0 keeps its own);
                // downlink: rank 0 sends n − 1 per round.
                let expect_msgs = if r == 0 { (n as u64 - 1) * 120 } else { 120 };
                assert_eq!(o.wire_vote.messages, expect_msgs);
            }
            assert_eq!(out[0].as_ref().unwrap().outcome.as_ref().unwrap(), &serial);
            if method == MajorityVoteMethod::SignSgdMv {
                assert!(
                    serial.server_zeros >= 120,
                    "the zero coordinate ties every round"
                );
            }
            // Without the global objective anywhere: shard sums, same iterates, the
            // metrics equal up to the order of the sums.
            let out = InProcess::run(n, T, |c| {
                let r = c.rank();
                mv.run_worker(
                    c,
                    &shards[r],
                    &x0,
                    Seed(9),
                    Every::N(7),
                    GlobalEval::<DiagonalQuadraticSum>::ShardSums,
                )
            })
            .unwrap();
            let o = out[0].as_ref().unwrap().outcome.clone().unwrap();
            assert_eq!(o.x, serial.x);
            assert_eq!(o.trace.steps, serial.trace.steps);
            for (a, b) in o.trace.grad_l1.iter().zip(&serial.trace.grad_l1) {
                assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
            }
            for (a, b) in o.trace.loss.iter().zip(&serial.trace.loss) {
                assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
            }
        }
    }
}

#[test]
fn packed_uplink_is_one_bit_per_coordinate() {
    let f = problem();
    let idx = split_indices(40, 3, &ShardSplit::Homogeneous { seed: Seed(7) }).unwrap();
    let shards = Shard::all(&f, &idx).unwrap();
    let mv = MajorityVoteConfig {
        n_workers: 3,
        method: MajorityVoteMethod::SsvrMv {
            option: SsvrMvOption::One,
            beta: 0.5,
            radius: 3.0,
        },
        learning_rate: 0.01,
        batch_size: 1,
        n_steps: 10,
    }
    .build()
    .unwrap();
    let out = InProcess::run(3, T, |c| {
        let r = c.rank();
        mv.run_worker(
            c,
            &shards[r],
            &[0.0; 6],
            Seed(1),
            Every::N(5),
            GlobalEval::Root((r == 0).then_some(&f)),
        )
    })
    .unwrap();
    // S_R never sends 0: a worker's message is the 18-byte header + 12-byte sign header +
    // ⌈6/8⌉ = 1 byte, every round.
    assert_eq!(out[2].as_ref().unwrap().wire_vote.bytes, 10 * (18 + 12 + 1));
}

#[test]
fn wrong_rank_count_missing_root_objective_and_failing_rank() {
    let f = problem();
    let idx = split_indices(40, 4, &ShardSplit::Homogeneous { seed: Seed(7) }).unwrap();
    let shards = Shard::all(&f, &idx).unwrap();
    let mv = MajorityVoteConfig {
        n_workers: 4,
        method: MajorityVoteMethod::SignSgdMv,
        learning_rate: 0.01,
        batch_size: 1,
        n_steps: 50,
    }
    .build()
    .unwrap();
    let out = InProcess::run(3, T, |c| {
        let r = c.rank();
        mv.run_worker(
            c,
            &shards[r],
            &[0.0; 6],
            Seed(1),
            Every::N(5),
            GlobalEval::Root(Some(&f)),
        )
    })
    .unwrap();
    for o in out {
        assert!(o.unwrap_err().to_string().contains("n_workers"));
    }
    let out = InProcess::run(4, T, |c| {
        let r = c.rank();
        mv.run_worker(
            c,
            &shards[r],
            &[0.0; 6],
            Seed(1),
            Every::N(5),
            GlobalEval::<DiagonalQuadraticSum>::Root(None),
        )
    })
    .unwrap();
    assert!(out[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("global objective"));
    let out = InProcess::run(4, T, |c| {
        let r = c.rank();
        let mut c = FaultInjection::new(c, (r == 3).then_some(30), FaultAction::Error);
        mv.run_worker(
            &mut c,
            &shards[r],
            &[0.0; 6],
            Seed(1),
            Every::N(5),
            GlobalEval::Root((r == 0).then_some(&f)),
        )
    })
    .unwrap();
    for (r, o) in out.into_iter().enumerate() {
        match o.unwrap_err() {
            RankedError::Comm(CommError::Backend(_)) => assert_eq!(r, 3),
            RankedError::Comm(CommError::PeerGone { .. }) => assert_ne!(r, 3),
            e => panic!("rank {r}: {e}"),
        }
    }
}
