//! What stands in front of the actions: a session, its CSRF token, the
//! token to get a session, `--read-only`.

use coordinate_api::{Data, WorkUnitMeta};
use coordinated::auth::Token;
use coordinated::ServerConfig;

use super::{Backend, Site, BOTH};

#[tokio::test]
async fn actions_need_a_session_and_its_csrf_token() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("s");
        let ns = site.ns.clone();
        let pause = [
            ("action", "pause"),
            ("namespace", ns.as_str()),
            ("spec", "s"),
        ];
        // No session at all.
        let answer = site.act(&pause).await;
        assert_eq!(answer.status, 401, "{answer:?}");
        assert!(answer.body.contains("sign in first"));
        site.page("/").await;
        // A session, but a form without its token, or with another's.
        let mut forged = pause.to_vec();
        forged.push(("csrf", ""));
        assert_eq!(site.act(&forged).await.status, 403);
        forged.pop();
        forged.push((
            "csrf",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ));
        let answer = site.act(&forged).await;
        assert_eq!(answer.status, 403);
        assert!(answer.body.contains("CSRF token is missing or stale"));
        assert!(!spec.meta(false).unwrap().paused, "nothing changed");
        // The cookie does not open the JSON API's writes either (no token
        // configured here, so they are open; see the token test).
        assert_eq!(site.act(&pause).await.status, 303);
        assert!(spec.meta(false).unwrap().paused);
    }
}

#[tokio::test]
async fn read_only_shows_and_changes_nothing() {
    for backend in BOTH {
        let mut site = Site::new(
            backend,
            ServerConfig {
                read_only: true,
                ..ServerConfig::default()
            },
        );
        let spec = site.spec("s");
        spec.add_work_unit("u", Data::new(), WorkUnitMeta::default())
            .unwrap();
        site.sample().await;
        let page = site.page(&site.spec_path("s")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("read-only"));
        assert!(!page.body.contains("value=\"pause\""), "no action offered");
        let ns = site.ns.clone();
        for action in [
            vec![
                ("action", "pause"),
                ("namespace", ns.as_str()),
                ("spec", "s"),
            ],
            vec![
                ("action", "delete-status"),
                ("namespace", &ns),
                ("spec", "s"),
                ("status", "available"),
                ("confirm", "yes"),
                ("expected", "1"),
            ],
            vec![
                ("action", "retry-failed"),
                ("namespace", &ns),
                ("spec", "s"),
            ],
        ] {
            let answer = site.act(&action).await;
            assert_eq!(answer.status, 403, "{action:?}");
            assert!(answer.body.contains("--read-only"));
        }
        assert!(!spec.meta(false).unwrap().paused);
        assert!(spec.work_unit("u").is_ok());
        // The API's writes are refused too; its reads are served.
        let request = site.request(
            "DELETE",
            &format!("{}/work_unit", site.spec_path("s")),
            None,
            None,
            None,
        );
        let answer = site.send(request).await;
        assert_eq!(answer.status, 403, "{answer:?}");
        assert!(spec.work_unit("u").is_ok());
        assert_eq!(site.get(&site.spec_path("s"), None).await.status, 200);
    }
}

#[tokio::test]
async fn a_browser_signs_in_once_with_the_token() {
    let mut site = Site::new(
        Backend::Memory,
        ServerConfig {
            token: Token::new("s3cret"),
            ..ServerConfig::default()
        },
    );
    let spec = site.spec("s");
    let path = site.spec_path("s");
    let answer = site.page(&path).await;
    assert_eq!(answer.status, 303, "to the sign-in form");
    let to = answer.location.unwrap();
    assert!(to.starts_with("/_dashboard/sign-in?next="), "{to}");
    assert_eq!(site.page(&to).await.status, 200);
    let wrong = site
        .post_form(
            "/_dashboard/sign-in",
            format!("token=nope&next={}", form_escape(&path)),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("not this server&#39;s token"),
        "{}",
        wrong.body
    );
    assert_eq!(site.page(&path).await.status, 303, "still signed out");
    let right = site
        .post_form(
            "/_dashboard/sign-in",
            format!("token=s3cret&next={}", form_escape(&path)),
        )
        .await;
    assert_eq!(right.status, 303);
    assert_eq!(
        right.location.as_deref(),
        Some(path.as_str()),
        "back where it was going"
    );
    let page = site.page(&path).await;
    assert_eq!(page.status, 200);
    // The cookie opens the pages, not the JSON API: scripts bring the token.
    assert_eq!(site.get(&path, None).await.status, 401);
    let ns = site.ns.clone();
    let answer = site
        .act(&[("action", "pause"), ("namespace", &ns), ("spec", "s")])
        .await;
    assert_eq!(answer.status, 303);
    assert!(spec.meta(false).unwrap().paused);
    // Signing out ends the session.
    let csrf = super::hidden_value(&page.body, "csrf").unwrap();
    site.post_form("/_dashboard/sign-out", format!("csrf={csrf}"))
        .await;
    assert_eq!(site.page(&path).await.status, 303);
    // Another browser without the cookie cannot act.
    site.forget_cookie();
    let answer = site
        .act(&[
            ("action", "resume"),
            ("namespace", &ns),
            ("spec", "s"),
            ("csrf", &csrf),
        ])
        .await;
    assert_eq!(answer.status, 401);
    assert!(spec.meta(false).unwrap().paused);
}

fn form_escape(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
