//! The order of renames on a target whose names are unique (case-insensitively, after
//! NFC), so that one apply converges.
//!
//! The planner gives every object it keeps a final name. A rename into a name another
//! object holds now can only run once that object has let the name go:
//!
//! - held by an object that is itself renamed: the rename runs after that one (a chain,
//!   `a→b` after `b→c`); a cycle (`a→b`, `b→a`) is broken by first renaming one of its
//!   objects to a temporary name, shown in the plan;
//! - held by an object this run deletes: the rename runs after that deletion, which the
//!   plan moves before every other change;
//! - held by an object the run keeps (another tool's, unowned, deactivated, or the twin of a
//!   skipped user): the rename is refused ([`Refusal::Held`]) and the object keeps its name;
//! - wanted by two objects at once: neither is renamed ([`Refusal::Collision`], naming both
//!   sources).
//!
//! A refused rename keeps the object's current name, which may refuse another rename in
//! turn: the rules are applied until nothing changes.

use std::collections::{HashMap, HashSet};

/// An object the run keeps, with its current and final name.
#[derive(Debug, Clone)]
pub(super) struct Claim<'a> {
    /// The target object's id.
    pub(super) id: &'a str,
    /// Its current name, as the target holds it.
    pub(super) current: &'a str,
    /// The name it should have (the source's, mapped).
    pub(super) wanted: String,
    /// The source object's name, for people.
    pub(super) source: String,
}

/// Why a rename is left undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Other source objects want the same final name.
    Collision {
        /// The name.
        name: String,
        /// The other source objects' names.
        with: Vec<String>,
    },
    /// A target object the run keeps holds the name.
    Held {
        /// The name.
        name: String,
        /// The holder's name at the target.
        holder: String,
    },
}

/// One rename write, in the order they can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Step<'a> {
    /// The object renamed.
    pub(super) id: &'a str,
    /// Its name now, which the step frees.
    pub(super) current: &'a str,
    /// `Some`: a rename to this temporary name, breaking a cycle; `None`: the rename to
    /// the final name.
    pub(super) temporary: Option<String>,
    /// The step (index in [`Order::steps`]) that frees the name this one takes.
    pub(super) after: Option<usize>,
    /// The target object whose deletion frees the name this one takes.
    pub(super) after_deletion: Option<&'a str>,
}

/// The outcome: the renames that can run, in order, and the refused ones.
#[derive(Debug, Default)]
pub(super) struct Order<'a> {
    pub(super) steps: Vec<Step<'a>>,
    /// Object id → why its rename is refused (it keeps its current name).
    pub(super) refused: HashMap<&'a str, Refusal>,
}

/// The target's current names: folded name → (object id, name as held).
pub(super) type Holders<'a> = HashMap<String, (&'a str, &'a str)>;

/// Orders the renames among `claims` (every object the run keeps, renamed or not).
/// `deleted(id)` says whether this run deletes the unclaimed target object `id`; `fold` is
/// the comparison key of names; `reserved` are further (folded) names a temporary name must
/// not take (the source's, which a create may take).
pub(super) fn order<'a>(
    claims: &[Claim<'a>],
    holders: &Holders<'a>,
    deleted: &dyn Fn(&str) -> bool,
    fold: &dyn Fn(&str) -> String,
    reserved: impl IntoIterator<Item = String>,
) -> Order<'a> {
    let by_id: HashMap<&str, usize> = claims.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    // The final folded name of each claim; a refused rename falls back to the current one.
    let mut finals: Vec<String> = claims.iter().map(|c| fold(&c.wanted)).collect();
    let currents: Vec<String> = claims.iter().map(|c| fold(c.current)).collect();
    let renames = |finals: &[String], i: usize| finals[i] != currents[i];
    let mut refused: HashMap<&'a str, Refusal> = HashMap::new();

    loop {
        let mut changed = false;
        // Two objects with one final name: every renamed one of them keeps its name.
        let mut by_final: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, name) in finals.iter().enumerate() {
            by_final.entry(name.as_str()).or_default().push(i);
        }
        let mut reverts: Vec<(usize, Refusal)> = Vec::new();
        for wanting in by_final.values().filter(|w| w.len() > 1) {
            // One of them keeps the name it has: it holds it.
            let keeper = wanting.iter().find(|&&j| !renames(&finals, j));
            for &i in wanting.iter().filter(|&&i| renames(&finals, i)) {
                let name = claims[i].wanted.clone();
                let refusal = match keeper {
                    Some(&j) => Refusal::Held {
                        name,
                        holder: claims[j].current.to_owned(),
                    },
                    None => Refusal::Collision {
                        name,
                        with: wanting
                            .iter()
                            .filter(|&&j| j != i)
                            .map(|&j| claims[j].source.clone())
                            .collect(),
                    },
                };
                reverts.push((i, refusal));
            }
        }
        if reverts.is_empty() {
            // A name held by an object the run keeps and does not rename away.
            for i in (0..claims.len()).filter(|&i| renames(&finals, i)) {
                let Some(&(holder, held_as)) = holders.get(&finals[i]) else {
                    continue;
                };
                let frees = match by_id.get(holder) {
                    Some(&j) => j == i || renames(&finals, j),
                    None => deleted(holder),
                };
                if !frees {
                    let name = claims[i].wanted.clone();
                    let holder = held_as.to_owned();
                    reverts.push((i, Refusal::Held { name, holder }));
                }
            }
        }
        for (i, refusal) in reverts {
            finals[i].clone_from(&currents[i]);
            refused.entry(claims[i].id).or_insert(refusal);
            changed = true;
        }
        if !changed {
            break;
        }
    }

    // Each renamed claim waits for the holder of its final name: one successor at most,
    // and (no two finals being equal) one predecessor at most: chains and simple cycles.
    let successor = |i: usize| -> Option<usize> {
        let &(holder, _) = holders.get(&finals[i])?;
        by_id
            .get(holder)
            .copied()
            .filter(|&j| j != i && renames(&finals, j))
    };
    let mut names_in_use: HashSet<String> = holders.keys().cloned().collect();
    names_in_use.extend(finals.iter().cloned());
    names_in_use.extend(reserved);
    let mut steps: Vec<Step<'a>> = Vec::new();
    let mut step_of: HashMap<usize, usize> = HashMap::new(); // claim → its first step
    let deletion = |i: usize| -> Option<&'a str> {
        let &(holder, _) = holders.get(&finals[i])?;
        (!by_id.contains_key(holder)).then_some(holder)
    };
    let mut temporaries = 0usize;
    for start in (0..claims.len()).filter(|&i| renames(&finals, i)) {
        if step_of.contains_key(&start) {
            continue;
        }
        // Walk to the end of the chain, or around a cycle.
        let mut path = vec![start];
        let mut on_path: HashSet<usize> = HashSet::from([start]);
        let mut cycle = false;
        while let Some(next) = successor(*path.last().unwrap_or(&start)) {
            if step_of.contains_key(&next) {
                break;
            }
            if !on_path.insert(next) {
                cycle = true;
                break;
            }
            path.push(next);
        }
        if cycle {
            // path = c0 → c1 → … → ck → c0 (only a cycle: nothing else wants its names).
            let first = path[0];
            let temporary = loop {
                temporaries += 1;
                let name: String = format!("renaming-{temporaries}.{}", claims[first].current)
                    .chars()
                    .take(100)
                    .collect();
                if names_in_use.insert(fold(&name)) {
                    break name;
                }
            };
            step_of.insert(first, steps.len());
            steps.push(Step {
                id: claims[first].id,
                current: claims[first].current,
                temporary: Some(temporary),
                after: None,
                after_deletion: None,
            });
            for &i in path.iter().skip(1).rev() {
                let after = successor(i).and_then(|j| step_of.get(&j).copied());
                step_of.insert(i, steps.len());
                steps.push(Step {
                    id: claims[i].id,
                    current: claims[i].current,
                    temporary: None,
                    after,
                    after_deletion: None,
                });
            }
            let after = successor(first).and_then(|j| step_of.get(&j).copied());
            steps.push(Step {
                id: claims[first].id,
                current: claims[first].current,
                temporary: None,
                after,
                after_deletion: None,
            });
        } else {
            for &i in path.iter().rev() {
                let after = successor(i).and_then(|j| step_of.get(&j).copied());
                step_of.insert(i, steps.len());
                steps.push(Step {
                    id: claims[i].id,
                    current: claims[i].current,
                    temporary: None,
                    after,
                    after_deletion: if after.is_none() { deletion(i) } else { None },
                });
            }
        }
    }
    Order { steps, refused }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(s: &str) -> String {
        crate::util::fold(s)
    }

    fn claim<'a>(id: &'a str, current: &'a str, wanted: &str) -> Claim<'a> {
        Claim {
            id,
            current,
            wanted: wanted.to_owned(),
            source: wanted.to_owned(),
        }
    }

    fn holders<'a>(claims: &[Claim<'a>], others: &[(&'a str, &'a str)]) -> Holders<'a> {
        claims
            .iter()
            .map(|c| (c.id, c.current))
            .chain(others.iter().copied())
            .map(|(id, name)| (fold(name), (id, name)))
            .collect()
    }

    /// Replays the steps on the current names, checking that no step takes a name held
    /// at that moment; the final names.
    fn replay(claims: &[Claim<'_>], order: &Order<'_>, others: &[&str]) -> HashMap<String, String> {
        let mut names: HashMap<String, String> = claims
            .iter()
            .map(|c| (c.id.to_owned(), c.current.to_owned()))
            .collect();
        for step in &order.steps {
            let claim = claims.iter().find(|c| c.id == step.id).unwrap();
            let to = step
                .temporary
                .clone()
                .unwrap_or_else(|| claim.wanted.clone());
            let held = names
                .iter()
                .any(|(id, name)| id != step.id && fold(name) == fold(&to))
                || others.iter().any(|name| fold(name) == fold(&to));
            assert!(!held, "{step:?} takes {to:?}, held at that moment");
            names.insert(step.id.to_owned(), to);
        }
        names
    }

    #[test]
    fn a_chain_runs_from_its_end() {
        let claims = [
            claim("1", "a", "b"),
            claim("2", "b", "c"),
            claim("3", "c", "d"),
        ];
        let order = order(&claims, &holders(&claims, &[]), &|_| false, &fold, []);
        let ids: Vec<&str> = order.steps.iter().map(|s| s.id).collect();
        assert_eq!(ids, ["3", "2", "1"]);
        let names = replay(&claims, &order, &[]);
        assert_eq!(names["1"], "b");
        assert_eq!(names["3"], "d");
    }

    #[test]
    fn a_swap_and_a_three_cycle_are_broken_by_a_temporary_name() {
        for claims in [
            vec![claim("1", "a", "b"), claim("2", "b", "a")],
            vec![
                claim("1", "a", "b"),
                claim("2", "b", "c"),
                claim("3", "c", "a"),
            ],
            vec![claim("1", "Ada", "bob"), claim("2", "BOB", "ada")],
        ] {
            let order = order(&claims, &holders(&claims, &[]), &|_| false, &fold, []);
            assert!(order.refused.is_empty());
            assert_eq!(order.steps.len(), claims.len() + 1, "{:?}", order.steps);
            assert_eq!(
                order.steps.iter().filter(|s| s.temporary.is_some()).count(),
                1
            );
            let names = replay(&claims, &order, &[]);
            for c in &claims {
                assert_eq!(names[c.id], c.wanted);
            }
        }
    }

    #[test]
    fn a_name_held_by_a_kept_object_refuses_the_rename_and_what_waited_on_it() {
        // 1 wants "x", held by an object the run keeps; 2 wants 1's name.
        let claims = [claim("1", "a", "x"), claim("2", "b", "a")];
        let order = order(
            &claims,
            &holders(&claims, &[("9", "X")]),
            &|_| false,
            &fold,
            [],
        );
        assert!(order.steps.is_empty(), "{:?}", order.steps);
        assert!(matches!(&order.refused["1"], Refusal::Held { holder, .. } if holder == "X"));
        assert!(matches!(&order.refused["2"], Refusal::Held { holder, .. } if holder == "a"));
    }

    #[test]
    fn a_name_held_by_an_object_the_run_deletes_waits_for_the_deletion() {
        let claims = [claim("1", "a", "x")];
        let order = order(
            &claims,
            &holders(&claims, &[("9", "x")]),
            &|id| id == "9",
            &fold,
            [],
        );
        assert_eq!(order.steps.len(), 1);
        assert_eq!(order.steps[0].after_deletion, Some("9"));
    }

    #[test]
    fn a_temporary_name_never_takes_a_reserved_name() {
        let claims = [claim("1", "a", "b"), claim("2", "b", "a")];
        let reserved = [fold("renaming-1.a"), fold("renaming-1.b")];
        let order = order(
            &claims,
            &holders(&claims, &[]),
            &|_| false,
            &fold,
            reserved.clone(),
        );
        let temporary = order
            .steps
            .iter()
            .find_map(|s| s.temporary.clone())
            .unwrap();
        assert!(!reserved.contains(&fold(&temporary)), "{temporary}");
    }

    #[test]
    fn two_objects_wanting_one_name_are_both_refused_naming_each_other() {
        let claims = [
            claim("1", "a", "same"),
            claim("2", "b", "SAME"),
            claim("3", "c", "d"),
        ];
        let order = order(&claims, &holders(&claims, &[]), &|_| false, &fold, []);
        assert_eq!(order.steps.len(), 1, "only 3 is renamed");
        match &order.refused["1"] {
            Refusal::Collision { with, .. } => assert_eq!(with, &["SAME".to_owned()]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(order.refused["2"], Refusal::Collision { .. }));
    }
}
