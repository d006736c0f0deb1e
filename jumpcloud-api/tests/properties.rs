//! Property tests over real HTTP (wiremock):
//! - a filter value with `+ : , " \`, spaces or any unicode reaches the server exactly;
//! - a list whose pages come back short (as JumpCloud's do before the end) still yields every
//!   item exactly once, ending by the total.

use jumpcloud_api::Client;
use jumpcloud_api::filter::{V1Filter, V2Filter};
use jumpcloud_api::retry::RetryPolicy;
use proptest::prelude::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("k")
        .v1_base_url(format!("{}/api", server.uri()))
        .v2_base_url(format!("{}/api/v2", server.uri()))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// Answers with the `filter` parameters it received, decoded, as the names of groups (v2) or
/// the user names of users (v1).
fn echo_filters(req: &Request) -> ResponseTemplate {
    let filters: Vec<String> = req
        .url
        .query_pairs()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| v.into_owned())
        .collect();
    if req.url.path().starts_with("/api/v2") {
        ResponseTemplate::new(200).set_body_json(
            filters
                .iter()
                .map(|f| json!({"id": "g", "name": f}))
                .collect::<Vec<_>>(),
        )
    } else {
        let results: Vec<_> = filters
            .iter()
            .map(|f| json!({"_id": "u", "username": f}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"totalCount": results.len(), "results": results}))
    }
}

fn tricky() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just('+'),
            Just(':'),
            Just(','),
            Just('"'),
            Just('\\'),
            Just(' '),
            Just('&'),
            Just('='),
            Just('%'),
            Just('#'),
            Just('?'),
            Just('/'),
            Just('$'),
            Just('ü'),
            Just('名'),
            Just('🙂'),
            any::<char>(),
        ],
        1..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn filter_values_reach_the_server_exactly(value in tricky()) {
        let rt = runtime();
        rt.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("GET")).respond_with(echo_filters).mount(&server).await;
            let jc = client(&server);
            let v2 = jc.user_groups().list().filter(V2Filter::new().eq("name", &value)).page(0).await.unwrap();
            prop_assert_eq!(&v2.items[0].name, &format!("name:eq:{value}"));
            let v1 = jc.users().list().filter(V1Filter::new().eq("email", &value)).page(0).await.unwrap();
            prop_assert_eq!(&v1.items[0].username, &format!("email:$eq:{value}"));
            Ok(())
        })?;
    }

    /// A model of JumpCloud's lists, written without the client's rules: the list is a run of
    /// positions, some holding a record and some a phantom (an association to a deleted
    /// object) that `skip`/`limit` count and the page leaves out. Whatever the phantoms, the
    /// client reads every record exactly once, in order — or, when more empty pages in a row
    /// than it allows stand before the end, fails; it never returns a short list.
    #[test]
    fn lists_are_read_whole_and_once_whatever_the_phantoms(segments in prop::collection::vec((any::<bool>(), 1usize..400), 0..8)) {
        let mask: Vec<bool> = segments.iter().flat_map(|&(phantom, len)| std::iter::repeat_n(phantom, len)).collect();
        let total = mask.len();
        let expected: Vec<String> = (0..total).filter(|&i| !mask[i]).map(|i| format!("g{i:05}")).collect();
        // Pages after which the total says more, and whether each is empty.
        let pages = total.div_ceil(100);
        let mut run = 0;
        let mut too_many_empty = false;
        for page in 0..pages.saturating_sub(1) {
            if mask[page * 100..(page + 1) * 100].iter().all(|&p| p) {
                run += 1;
                too_many_empty |= run > jumpcloud_api::page::MAX_EMPTY_PAGES as usize;
            } else {
                run = 0;
            }
        }
        let rt = runtime();
        rt.block_on(async {
            let server = MockServer::start().await;
            let mask = mask.clone();
            Mock::given(method("GET"))
                .and(path("/api/v2/usergroups"))
                .respond_with(move |req: &Request| {
                    let param = |name: &str| req.url.query_pairs().find(|(k, _)| k == name).and_then(|(_, v)| v.parse::<usize>().ok()).unwrap_or(0);
                    let (skip, limit) = (param("skip"), param("limit"));
                    let items: Vec<_> = (skip..(skip + limit).min(mask.len()))
                        .filter(|&i| !mask[i])
                        .map(|i| json!({"id": format!("g{i:05}"), "name": format!("n{i}")}))
                        .collect();
                    ResponseTemplate::new(200).insert_header("x-total-count", mask.len().to_string()).set_body_json(items)
                })
                .mount(&server)
                .await;
            let read = client(&server).user_groups().list().all().await;
            if too_many_empty {
                let is_paging_error = matches!(read, Err(jumpcloud_api::Error::Paging { .. }));
                prop_assert!(is_paging_error, "{:?}", read.map(|r| r.len()));
            } else {
                let ids: Vec<String> = read.unwrap().iter().map(|g| g.id.as_str().to_owned()).collect();
                prop_assert_eq!(ids, expected);
            }
            Ok(())
        })?;
    }
}
