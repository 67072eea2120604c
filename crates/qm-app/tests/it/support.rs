//! Databases of each backend, and records written as interchange text.

use qm_app::App;

/// One empty database, kept alive as long as this is.
pub enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        path: String,
    },
    Postgres(qm_testkit::TestDb),
}

impl Db {
    pub fn url(&self) -> &str {
        match self {
            Db::Sqlite { path, .. } => path,
            Db::Postgres(db) => &db.url,
        }
    }

    pub fn open(&self) -> App {
        App::open(self.url()).unwrap_or_else(|e| panic!("opening {}: {e}", self.url()))
    }
}

pub fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db").to_str().unwrap().to_owned();
    Db::Sqlite { _dir: dir, path }
}

pub fn postgres() -> Db {
    Db::Postgres(qm_testkit::TestDb::new())
}

/// Runs `check` on a fresh database of every backend.
pub fn on_every_backend(check: impl Fn(&dyn Fn() -> Db)) {
    check(&sqlite);
    check(&postgres);
}

pub const SETUP: &str = r#"{"type":"org","id":"US","name":"United States","kind":"donor"}
{"type":"org","id":"UA","name":"Ukraine","kind":"recipient"}
{"type":"holder","id":"PROD","name":"Production","org":"US","kind":"source"}
{"type":"holder","id":"DEPOT","name":"Depot","org":"US","kind":"depot"}
{"type":"holder","id":"HUB","name":"Hub","org":"US","kind":"transit"}
{"type":"holder","id":"BDE","name":"Brigade","org":"UA","kind":"unit"}
{"type":"holder","id":"USED","name":"Expended","org":"UA","kind":"sink"}
{"type":"item","code":"SHELL","name":"155 mm","category":"ammunition","tracking":"lot"}
{"type":"item","code":"PAC3","name":"PAC-3 MSE","category":"missile","tracking":"serial","sensitive":true}
{"type":"floor","item":"SHELL","org":"US","min_qty":50}
"#;

/// A movement line.
pub fn mv(id: &str, time: &str, item: &str, qty: u64, from: &str, to: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"movement","id":"{id}","time":"{time}","item":"{item}","qty":{qty},"from":"{from}","to":"{to}"{extra}}}"#
    ) + "\n"
}

/// Every non-zero balance at `as_of`, as text.
pub fn balances(app: &App, as_of: Option<&str>) -> String {
    let q = qm_core::BalanceQuery {
        as_of: as_of.map(|t| qm_interchange::parse_time(t).unwrap()),
        ..Default::default()
    };
    app.read()
        .unwrap()
        .ledger()
        .balances(&q)
        .iter()
        .map(|b| format!("{}/{}/{}={}", b.holder, b.item, b.lot.unwrap_or("-"), b.qty))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn export(app: &App) -> String {
    let mut out = Vec::new();
    app.export(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}
