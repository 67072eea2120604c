//! Reading records: every kind of error message, with its file:line:field, and good records
//! shown in their canonical form.

use expect_test::{expect, Expect};
use qm_interchange::{parse_record, parse_text, write_record};

/// Parses `text` as file `t.jsonl` (at most 20 errors listed) and shows the records written
/// back canonically with their line numbers, or the errors as a user reads them.
fn check(text: &str, expect: Expect) {
    let actual = match parse_text("t.jsonl", text, 20) {
        Ok(records) => {
            let mut out = String::new();
            for (line, rec) in records {
                out.push_str(&format!("{line}: "));
                write_record(&rec, &mut out);
                out.push('\n');
            }
            out
        }
        Err(errors) => format!("{errors}\n"),
    };
    expect.assert_eq(&actual);
}

const MOVEMENT: &str = r#""type":"movement","id":"m1","time":"2025-07-04T12:00:00Z","item":"rifle","qty":2,"from":"d1","to":"u1""#;

/// A movement line with `extra` fields appended (`extra` starts with a comma).
fn movement(extra: &str) -> String {
    format!("{{{MOVEMENT}{extra}}}")
}

#[test]
fn good_records_of_every_type() {
    check(
        r#"{"type":"org","id":"UA-MOD","name":"Ministry of Defence","kind":"recipient"}
{"name":"Donor","id":"D","type":"org"}

{"type":"holder","id":"d1","name":"Depot 1","org":"UA-MOD","kind":"depot","country":"UA","lat":50.45,"lon":30.5236}
{"type":"holder","id":"src","name":"Production","org":"D","kind":"source","lat":-0.0,"lon":180}
{"type":"item","code":"155mm","name":"155 mm shell","category":"ammunition","tracking":"lot","unit":"round","sensitive":true,"unit_value":{"currency":"EUR","amount":"1234.50"},"inventory_interval_days":90}
{"type":"item","code":"rifle","name":"Rifle","category":"small arms","tracking":"serial"}
{"type":"floor","item":"155mm","org":"UA-MOD","min_qty":0}
{"type":"floor","item":"155mm","org":"UA-MOD","min_qty":5000,"time":"2025-07-04"}
{"type":"movement","id":"m1","time":"2025-07-04T14:00:00.250+02:00","item":"rifle","qty":2,"from":"src","to":"d1","serials":["SN-1","SN-2"],"kind":"delivery","transfer":"t-7","note":"caf\u00e9 \"quoted\"\ttab ✓"}
{"type":"holder","id":"h","name":"H","org":"A","kind":"depot","lat":-90,"lon":-180,"country":"UA"}
{"type":"holder","id":"h","name":"H","org":"A","kind":"unit","lat":1e1,"lon":0.1e-2}
{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","unit_value":{"amount":"0007.50","currency":"USD"},"unit":"","sensitive":false}
  {"note":"","lot":"L-2025","to":"u1","from":"d1","qty":9007199254740991,"item":"155mm","time":"2025-07-04","id":"m2","type":"movement"}
"#,
        expect![[r#"
            1: {"type":"org","id":"UA-MOD","name":"Ministry of Defence","kind":"recipient"}
            2: {"type":"org","id":"D","name":"Donor"}
            4: {"type":"holder","id":"d1","name":"Depot 1","org":"UA-MOD","kind":"depot","country":"UA","lat":50.45,"lon":30.5236}
            5: {"type":"holder","id":"src","name":"Production","org":"D","kind":"source","lat":-0.0,"lon":180.0}
            6: {"type":"item","code":"155mm","name":"155 mm shell","category":"ammunition","tracking":"lot","unit":"round","sensitive":true,"unit_value":{"amount":"1234.50","currency":"EUR"},"inventory_interval_days":90}
            7: {"type":"item","code":"rifle","name":"Rifle","category":"small arms","tracking":"serial"}
            8: {"type":"floor","item":"155mm","org":"UA-MOD","min_qty":0}
            9: {"type":"floor","item":"155mm","org":"UA-MOD","min_qty":5000,"time":"2025-07-04T00:00:00Z"}
            10: {"type":"movement","id":"m1","time":"2025-07-04T12:00:00.25Z","item":"rifle","qty":2,"from":"src","to":"d1","serials":["SN-1","SN-2"],"kind":"delivery","transfer":"t-7","note":"café \"quoted\"\ttab ✓"}
            11: {"type":"holder","id":"h","name":"H","org":"A","kind":"depot","country":"UA","lat":-90.0,"lon":-180.0}
            12: {"type":"holder","id":"h","name":"H","org":"A","kind":"unit","lat":10.0,"lon":0.001}
            13: {"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","unit":"","sensitive":false,"unit_value":{"amount":"0007.50","currency":"USD"}}
            14: {"type":"movement","id":"m2","time":"2025-07-04T00:00:00Z","item":"155mm","qty":9007199254740991,"from":"d1","to":"u1","lot":"L-2025","note":""}
        "#]],
    );
}

#[test]
fn blank_lines_crlf_and_bom() {
    check("\u{feff}{\"type\":\"org\",\"id\":\"A\",\"name\":\"a\"}\r\n \t\r\n\r\n{\"type\":\"org\",\"id\":\"B\",\"name\":\"b\"}\r\n", expect![[r#"
        1: {"type":"org","id":"A","name":"a"}
        4: {"type":"org","id":"B","name":"b"}
    "#]]);
    check("", expect![[r#""#]]);
}

#[test]
fn whole_line_problems() {
    check(
        r#"{"type":"org","id":"A","name":"a"
[{"type":"org"}]
"org"
42
null
{"type":"org","id":"A","name":"a"} {}
{"type":"org","id":"A","name":"a"},
"#,
        expect![[r#"
            t.jsonl:1: invalid JSON: EOF while parsing an object at column 33
            t.jsonl:2: expected a JSON object, found an array
            t.jsonl:3: expected a JSON object, found a string
            t.jsonl:4: expected a JSON object, found a number
            t.jsonl:5: expected a JSON object, found null
            t.jsonl:6: invalid JSON: trailing characters at column 36
            t.jsonl:7: invalid JSON: trailing characters at column 35
        "#]],
    );
    check(
        "{\"type\":\"org\",\"id\":\"\\ud800\",\"name\":\"a\"}\nnot json\n",
        expect![[r#"
            t.jsonl:1: invalid JSON: unexpected end of hex escape at column 27
            t.jsonl:2: invalid JSON: expected ident at column 2
        "#]],
    );
}

#[test]
fn record_type() {
    check(
        r#"{}
{"id":"A","name":"a"}
{"type":"Org","id":"A","name":"a"}
{"type":"shipment","id":"A"}
{"type":7,"id":"A","name":"a"}
{"type":null}
"#,
        expect![[r#"
            t.jsonl:1: field "type": missing required field
            t.jsonl:2: field "type": missing required field
            t.jsonl:3: field "type": unknown record type "Org": expected org, holder, item, floor, movement, transfer, allocate, cancel, pause, resume, production, consumption, threat or inventory
            t.jsonl:4: field "type": unknown record type "shipment": expected org, holder, item, floor, movement, transfer, allocate, cancel, pause, resume, production, consumption, threat or inventory
            t.jsonl:5: field "type": expected a string
            t.jsonl:6: field "type": expected a string
        "#]],
    );
}

#[test]
fn duplicate_keys() {
    check(
        &[
            r#"{"type":"org","id":"A","name":"a","id":"A"}"#,
            r#"{"type":"org","type":"holder","id":"A","name":"a"}"#,
            r#"{"type":"org","id":"A","name":"a","n\u0061me":"b"}"#,
            &movement(r#","qty":2"#),
            // The first duplicate in line order wins over an unknown key and a bad type.
            r#"{"bogus":1,"type":"nope","id":"A","id":"B"}"#,
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "id": duplicate field
            t.jsonl:2: field "type": duplicate field
            t.jsonl:3: field "name": duplicate field
            t.jsonl:4: field "qty": duplicate field
            t.jsonl:5: field "id": duplicate field
        "#]],
    );
}

#[test]
fn unknown_fields() {
    check(
        &[
            r#"{"type":"org","id":"A","name":"a","colour":"blue"}"#,
            &movement(r#","min_qty":1"#),
            &movement(r#","Lot":"L1""#),
            r#"{"type":"holder","id":"h","name":"H","org":"A","kind":"depot","tracking":"bulk"}"#,
            // Whichever comes first in the line is named.
            r#"{"zzz":1,"type":"floor","item":"i","org":"A","min_qty":1,"qty":1}"#,
            r#"{"qty":1,"type":"floor","item":"i","org":"A","min_qty":1,"zzz":1}"#,
            r#"{"type":"org","id":"A","name":"a","we\"ird":1}"#,
            // More known fields than any type has: the first foreign one is still named.
            &movement(r#","lot":"L","serials":["a","b"],"kind":"k","transfer":"t","note":"n","donor":"A","pause":"p""#),
            &format!(r#"{{"by":"b","reason":"r",{}"#, &movement(r#","lot":"L","kind":"k","transfer":"t","note":"n""#)[1..]),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "colour": unknown field for an org record
            t.jsonl:2: field "min_qty": unknown field for a movement record
            t.jsonl:3: field "Lot": unknown field for a movement record
            t.jsonl:4: field "tracking": unknown field for a holder record
            t.jsonl:5: field "zzz": unknown field for a floor record
            t.jsonl:6: field "qty": unknown field for a floor record
            t.jsonl:7: field "we\"ird": unknown field for an org record
            t.jsonl:8: field "donor": unknown field for a movement record
            t.jsonl:9: field "by": unknown field for a movement record
        "#]],
    );
}

#[test]
fn missing_required_fields() {
    check(
        r#"{"type":"org","name":"a"}
{"type":"holder","id":"h","name":"H","org":"A"}
{"type":"item","code":"c","name":"C","tracking":"bulk"}
{"type":"floor","item":"i","org":"A"}
{"type":"movement","id":"m","item":"i","qty":1,"from":"a","to":"b"}
"#,
        expect![[r#"
            t.jsonl:1: field "id": missing required field of an org record
            t.jsonl:2: field "kind": missing required field of a holder record
            t.jsonl:3: field "category": missing required field of an item record
            t.jsonl:4: field "min_qty": missing required field of a floor record
            t.jsonl:5: field "time": missing required field of a movement record
        "#]],
    );
}

#[test]
fn strings_and_identifiers() {
    check(
        &[
            r#"{"type":"org","id":"","name":"a"}"#,
            r#"{"type":"org","id":7,"name":"a"}"#,
            r#"{"type":"org","id":"A","name":null}"#,
            r#"{"type":"org","id":"A","name":["a"]}"#,
            r#"{"type":"org","id":"A","name":""}"#,
            &movement(r#","lot":"""#),
            &movement(r#","note":{"text":"x"}"#),
            &movement(r#","transfer":"""#),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "id": expected a non-empty string
            t.jsonl:2: field "id": expected a non-empty string
            t.jsonl:3: field "name": expected a string
            t.jsonl:4: field "name": expected a string
            t.jsonl:5: field "name": expected a non-empty string that is not only white space
            t.jsonl:6: field "lot": expected a non-empty string
            t.jsonl:7: field "note": expected a string
            t.jsonl:8: field "transfer": expected a non-empty string
        "#]],
    );
}

#[test]
fn enums() {
    check(
        r#"{"type":"org","id":"A","name":"a","kind":"ally"}
{"type":"holder","id":"h","name":"H","org":"A","kind":"Depot"}
{"type":"item","code":"c","name":"C","category":"x","tracking":"batch"}
{"type":"item","code":"c","name":"C","category":"x","tracking":1}
"#,
        expect![[r#"
            t.jsonl:1: field "kind": expected one of donor, recipient, producer, monitor, other
            t.jsonl:2: field "kind": expected one of depot, transit, unit, source, sink
            t.jsonl:3: field "tracking": expected one of bulk, lot, serial
            t.jsonl:4: field "tracking": expected one of bulk, lot, serial
        "#]],
    );
}

#[test]
fn quantities() {
    check(
        &[
            movement(r#","qty":0"#).replacen(r#""qty":2,"#, "", 1),
            movement(r#","qty":-1"#).replacen(r#""qty":2,"#, "", 1),
            movement(r#","qty":1.5"#).replacen(r#""qty":2,"#, "", 1),
            movement(r#","qty":1.0"#).replacen(r#""qty":2,"#, "", 1),
            movement(r#","qty":"2""#).replacen(r#""qty":2,"#, "", 1),
            movement(r#","qty":18446744073709551616"#).replacen(r#""qty":2,"#, "", 1),
            r#"{"type":"floor","item":"i","org":"A","min_qty":-1}"#.to_owned(),
            r#"{"type":"floor","item":"i","org":"A","min_qty":1e3}"#.to_owned(),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:2: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:3: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:4: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:5: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:6: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:7: field "min_qty": expected a non-negative integer of at most 9007199254740991
            t.jsonl:8: field "min_qty": expected a non-negative integer of at most 9007199254740991
        "#]],
    );
    check(
        r#"{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","inventory_interval_days":4294967296}
{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","inventory_interval_days":-1}
{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","inventory_interval_days":4294967295}
"#,
        expect![[r#"
            t.jsonl:1: field "inventory_interval_days": expected a non-negative integer of at most 4294967295
            t.jsonl:2: field "inventory_interval_days": expected a non-negative integer of at most 4294967295
        "#]],
    );
}

#[test]
fn holder_place() {
    let holder = r#"{"type":"holder","id":"h","name":"H","org":"A","kind":"depot","#;
    check(
        &[
            r#""lat":90.0000001}"#,
            r#""lat":-91}"#,
            r#""lat":"50.4"}"#,
            r#""lat":null}"#,
            r#""lon":180.5}"#,
            r#""lon":-1e400}"#,
            r#""lon":true}"#,
            r#""country":"ua"}"#,
            r#""country":"UKR"}"#,
            r#""country":"ÜA"}"#,
            r#""country":1}"#,
        ]
        .map(|tail| format!("{holder}{tail}"))
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "lat": expected a number from -90 to 90
            t.jsonl:2: field "lat": expected a number from -90 to 90
            t.jsonl:3: field "lat": expected a number from -90 to 90
            t.jsonl:4: field "lat": expected a number from -90 to 90
            t.jsonl:5: field "lon": expected a number from -180 to 180
            t.jsonl:6: field "lon": expected a number from -180 to 180
            t.jsonl:7: field "lon": expected a number from -180 to 180
            t.jsonl:8: field "country": expected two uppercase ASCII letters (ISO 3166 alpha-2)
            t.jsonl:9: field "country": expected two uppercase ASCII letters (ISO 3166 alpha-2)
            t.jsonl:10: field "country": expected two uppercase ASCII letters (ISO 3166 alpha-2)
            t.jsonl:11: field "country": expected two uppercase ASCII letters (ISO 3166 alpha-2)
        "#]],
    );
}

#[test]
fn item_value_and_flags() {
    let item = r#"{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","#;
    check(
        &[
            r#""sensitive":"yes"}"#,
            r#""sensitive":1}"#,
            r#""unit_value":"12 USD"}"#,
            r#""unit_value":[]}"#,
            r#""unit_value":{"amount":"12"}}"#,
            r#""unit_value":{"currency":"USD"}}"#,
            r#""unit_value":{"amount":12,"currency":"USD"}}"#,
            r#""unit_value":{"amount":"1,234.50","currency":"USD"}}"#,
        ]
        .map(|tail| format!("{item}{tail}"))
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "sensitive": expected true or false
            t.jsonl:2: field "sensitive": expected true or false
            t.jsonl:3: field "unit_value": expected an object like {"amount": "1234.50", "currency": "USD"}
            t.jsonl:4: field "unit_value": expected an object like {"amount": "1234.50", "currency": "USD"}
            t.jsonl:5: field "unit_value.currency": missing required field of unit_value
            t.jsonl:6: field "unit_value.amount": missing required field of unit_value
            t.jsonl:7: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:8: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
        "#]],
    );
    check(
        &[
            r#""unit_value":{"amount":"12.","currency":"USD"}}"#,
            r#""unit_value":{"amount":".5","currency":"USD"}}"#,
            r#""unit_value":{"amount":"+5","currency":"USD"}}"#,
            r#""unit_value":{"amount":"5","currency":"usd"}}"#,
            r#""unit_value":{"amount":"5","currency":"USD","note":"x"}}"#,
            r#""unit_value":{"amount":"5","currency":"USD","amount":"6"}}"#,
        ]
        .map(|tail| format!("{item}{tail}"))
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:2: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:3: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:4: field "unit_value.currency": expected three uppercase ASCII letters (ISO 4217)
            t.jsonl:5: field "unit_value.note": unknown field for unit_value: expected only amount and currency
            t.jsonl:6: field "unit_value.amount": duplicate field
        "#]],
    );
}

#[test]
fn movement_times() {
    let time = |t: &str| movement("").replace("\"2025-07-04T12:00:00Z\"", t);
    check(
        &[
            time(r#""2025-02-30""#),
            time(r#""2025-07-04 12:00:00Z""#),
            time(r#""yesterday""#),
            time("1751630400"),
            time(r#""2025-07-04T12:00:00""#),
            movement("").replace(r#""time":"2025-07-04T12:00:00Z","#, ""),
            r#"{"type":"floor","item":"i","org":"A","min_qty":1,"time":"2025-13-01"}"#.to_owned(),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "time": expected an RFC 3339 time like "2025-07-04T12:00:00Z" (any offset, up to 9 fractional digits) or a date like "2025-07-04" (midnight UTC)
            t.jsonl:2: field "time": expected an RFC 3339 time like "2025-07-04T12:00:00Z" (any offset, up to 9 fractional digits) or a date like "2025-07-04" (midnight UTC)
            t.jsonl:3: field "time": expected an RFC 3339 time like "2025-07-04T12:00:00Z" (any offset, up to 9 fractional digits) or a date like "2025-07-04" (midnight UTC)
            t.jsonl:4: field "time": expected an RFC 3339 time like "2025-07-04T12:00:00Z" (any offset, up to 9 fractional digits) or a date like "2025-07-04" (midnight UTC)
            t.jsonl:5: field "time": expected an RFC 3339 time like "2025-07-04T12:00:00Z" (any offset, up to 9 fractional digits) or a date like "2025-07-04" (midnight UTC)
            t.jsonl:6: field "time": missing required field of a movement record
            t.jsonl:7: field "time": expected an RFC 3339 time like "2025-07-04T12:00:00Z" (any offset, up to 9 fractional digits) or a date like "2025-07-04" (midnight UTC)
        "#]],
    );
}

#[test]
fn serials() {
    check(
        &[
            movement(r#","serials":"SN-1,SN-2""#),
            movement(r#","serials":["SN-1"]"#),
            movement(r#","serials":["SN-1","SN-2","SN-3"]"#),
            movement(r#","serials":["SN-1","SN-1"]"#),
            movement(r#","serials":["SN-1",2]"#),
            movement(r#","serials":["SN-1",""]"#),
            movement(r#","serials":[]"#),
            movement(r#","serials":["SN-1","SN-2"]"#),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "serials": expected an array of non-empty strings
            t.jsonl:2: field "serials": expected as many serials as qty (2), found 1
            t.jsonl:3: field "serials": expected as many serials as qty (2), found 3
            t.jsonl:4: field "serials": duplicate serial "SN-1"
            t.jsonl:5: field "serials": serial 2 of 2: expected a non-empty string
            t.jsonl:6: field "serials": serial 2 of 2: expected a non-empty string
            t.jsonl:7: field "serials": expected as many serials as qty (2), found 0
        "#]],
    );
}

#[test]
fn many_duplicate_serials() {
    let serials: Vec<String> = (0..40).map(|i| format!("\"S{}\"", i % 30)).collect();
    let line = movement(&format!(",\"serials\":[{}]", serials.join(","))).replacen(
        r#""qty":2"#,
        r#""qty":40"#,
        1,
    );
    let e = parse_record(&line).unwrap_err();
    expect![[r#"field "serials": duplicate serial "S0""#]].assert_eq(&e.to_string());
}

#[test]
fn every_bad_line_up_to_the_cap() {
    let mut text = String::new();
    for i in 1..=9 {
        if i % 3 == 0 {
            text.push_str(&movement(""));
        } else {
            text.push_str(&movement("").replace(r#""qty":2"#, &format!(r#""qty":-{i}"#)));
        }
        text.push('\n');
    }
    check(
        &text,
        expect![[r#"
            t.jsonl:1: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:2: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:4: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:5: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:7: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:8: field "qty": expected a positive integer of at most 9007199254740991
        "#]],
    );
    let e = parse_text("t.jsonl", &text, 4).unwrap_err();
    expect![[r#"
        t.jsonl:1: field "qty": expected a positive integer of at most 9007199254740991
        t.jsonl:2: field "qty": expected a positive integer of at most 9007199254740991
        t.jsonl:4: field "qty": expected a positive integer of at most 9007199254740991
        t.jsonl:5: field "qty": expected a positive integer of at most 9007199254740991
        ... and 2 more"#]]
    .assert_eq(&e.to_string());
    let e = parse_text("t.jsonl", &text, 0).unwrap_err();
    expect!["... and 6 more"].assert_eq(&e.to_string());
    assert_eq!(e.count(), 6);
}

#[test]
fn field_error_display() {
    let e = parse_record(r#"{"type":"org","id":"A"}"#).unwrap_err();
    expect![[r#"field "name": missing required field of an org record / FieldError { field: Some("name"), message: "missing required field of an org record" }"#]].assert_eq(&format!("{e} / {e:?}"));
    let e = parse_record("[").unwrap_err();
    expect![[r#"invalid JSON: EOF while parsing a list at column 1 / FieldError { field: None, message: "invalid JSON: EOF while parsing a list at column 1" }"#]].assert_eq(&format!("{e} / {e:?}"));
}

#[test]
fn good_workflow_records() {
    check(
        r#"{"type":"transfer","id":"t1","time":"2025-03-01","donor":"DE","recipient":"UA","lines":[{"item":"155mm","qty":10000,"value":{"amount":"45000000","currency":"EUR"}},{"qty":4,"item":"IRIS-T"}],"authority":"Ertüchtigung 2025","note":"first tranche"}
{"type":"transfer","id":"t2","time":"2025-03-01T10:00:00+01:00","donor":"DE","recipient":"UA","lines":[ { "item" : "155mm" , "qty" : 1 } ]}
{"type":"allocate","id":"a1","time":"2025-03-02","transfer":"t1","item":"155mm","qty":5000,"from":"depot-1","lot":"L-7","override":{"by":"State Secretary","reason":"front-line need"}}
{"type":"allocate","id":"a2","time":"2025-03-02","transfer":"t1","item":"155mm","qty":5000,"from":"depot-2"}
{"type":"cancel","id":"c1","time":"2025-04-01","transfer":"t1"}
{"type":"cancel","id":"c2","time":"2025-04-01","transfer":"t1","item":"IRIS-T"}
{"type":"cancel","id":"c3","time":"2025-04-01","transfer":"t1","item":"155mm","qty":100,"reason":"lot recalled","by":"BAAINBw"}
{"type":"pause","id":"p1","time":"2025-05-01","reason":"end-use review","by":"MoD","items":["155mm","IRIS-T"],"review_by":"2025-06-01"}
{"type":"pause","id":"p2","time":"2025-05-01","reason":"r","by":"b","categories":["air defence"],"donor":"DE","recipient":"UA","transfer":"t1"}
{"type":"resume","id":"r1","time":"2025-05-20","pause":"p1"}
{"type":"resume","id":"r2","time":"2025-05-20","pause":"p2","reason":"review done","by":"MoD"}
{"type":"production","id":"pr1","item":"155mm","to":"rheinmetall","qty_per_month":25000,"from_time":"2025-01-01"}
{"type":"production","id":"pr2","item":"155mm","to":"rheinmetall","qty_per_month":0,"from_time":"2025-01-01","to_time":"2025-01-01","partner":"UA"}
{"type":"consumption","id":"co1","item":"155mm","org":"UA","qty_per_month":9007199254740991,"from_time":"2025-01-01","to_time":"2027-01-01"}
{"type":"threat","id":"th1","time":"2025-07-01","region":"Kyiv","launched":{"drones":700,"cruise_missiles":40,"ballistic_missiles":6},"intercepted":{"ballistic_missiles":6,"drones":650},"interceptors_used":{"PAC-3":8,"IRIS-T":20,"AIM-9":0}}
{"type":"threat","id":"th2","time":"2025-07-01","region":"Odesa","launched":{}}
{"type":"inventory","id":"in1","time":"2025-08-01","holder":"ua-depot-5","by":"DE-MON","serials_seen":["SN-1","SN-2"],"counts":[{"item":"155mm","qty":0,"lot":"L-7"},{"item":"155mm","qty":40},{"item":"155mm","qty":3,"lot":"L-8"}]}
{"type":"inventory","id":"in2","time":"2025-08-01","holder":"ua-depot-5","by":"DE-MON","serials_seen":[],"counts":[]}
"#,
        expect![[r#"
            1: {"type":"transfer","id":"t1","time":"2025-03-01T00:00:00Z","donor":"DE","recipient":"UA","lines":[{"item":"155mm","qty":10000,"value":{"amount":"45000000","currency":"EUR"}},{"item":"IRIS-T","qty":4}],"authority":"Ertüchtigung 2025","note":"first tranche"}
            2: {"type":"transfer","id":"t2","time":"2025-03-01T09:00:00Z","donor":"DE","recipient":"UA","lines":[{"item":"155mm","qty":1}]}
            3: {"type":"allocate","id":"a1","time":"2025-03-02T00:00:00Z","transfer":"t1","item":"155mm","qty":5000,"from":"depot-1","lot":"L-7","override":{"reason":"front-line need","by":"State Secretary"}}
            4: {"type":"allocate","id":"a2","time":"2025-03-02T00:00:00Z","transfer":"t1","item":"155mm","qty":5000,"from":"depot-2"}
            5: {"type":"cancel","id":"c1","time":"2025-04-01T00:00:00Z","transfer":"t1"}
            6: {"type":"cancel","id":"c2","time":"2025-04-01T00:00:00Z","transfer":"t1","item":"IRIS-T"}
            7: {"type":"cancel","id":"c3","time":"2025-04-01T00:00:00Z","transfer":"t1","item":"155mm","qty":100,"reason":"lot recalled","by":"BAAINBw"}
            8: {"type":"pause","id":"p1","time":"2025-05-01T00:00:00Z","reason":"end-use review","by":"MoD","items":["155mm","IRIS-T"],"review_by":"2025-06-01T00:00:00Z"}
            9: {"type":"pause","id":"p2","time":"2025-05-01T00:00:00Z","reason":"r","by":"b","categories":["air defence"],"donor":"DE","recipient":"UA","transfer":"t1"}
            10: {"type":"resume","id":"r1","time":"2025-05-20T00:00:00Z","pause":"p1"}
            11: {"type":"resume","id":"r2","time":"2025-05-20T00:00:00Z","pause":"p2","reason":"review done","by":"MoD"}
            12: {"type":"production","id":"pr1","item":"155mm","to":"rheinmetall","qty_per_month":25000,"from_time":"2025-01-01T00:00:00Z"}
            13: {"type":"production","id":"pr2","item":"155mm","to":"rheinmetall","qty_per_month":0,"from_time":"2025-01-01T00:00:00Z","to_time":"2025-01-01T00:00:00Z","partner":"UA"}
            14: {"type":"consumption","id":"co1","item":"155mm","org":"UA","qty_per_month":9007199254740991,"from_time":"2025-01-01T00:00:00Z","to_time":"2027-01-01T00:00:00Z"}
            15: {"type":"threat","id":"th1","time":"2025-07-01T00:00:00Z","region":"Kyiv","launched":{"drones":700,"cruise_missiles":40,"ballistic_missiles":6},"intercepted":{"drones":650,"ballistic_missiles":6},"interceptors_used":{"AIM-9":0,"IRIS-T":20,"PAC-3":8}}
            16: {"type":"threat","id":"th2","time":"2025-07-01T00:00:00Z","region":"Odesa","launched":{}}
            17: {"type":"inventory","id":"in1","time":"2025-08-01T00:00:00Z","holder":"ua-depot-5","by":"DE-MON","serials_seen":["SN-1","SN-2"],"counts":[{"item":"155mm","qty":0,"lot":"L-7"},{"item":"155mm","qty":40},{"item":"155mm","qty":3,"lot":"L-8"}]}
            18: {"type":"inventory","id":"in2","time":"2025-08-01T00:00:00Z","holder":"ua-depot-5","by":"DE-MON","serials_seen":[],"counts":[]}
        "#]],
    );
}

#[test]
fn workflow_rules_of_one_record() {
    let transfer = |lines: &str| {
        format!(
            r#"{{"type":"transfer","id":"t","time":"2025-01-01","donor":"A","recipient":"B","lines":{lines}}}"#
        )
    };
    check(
        &[
            transfer("[]"),
            transfer(r#"[{"item":"a","qty":1},{"item":"b","qty":2},{"item":"a","qty":3}]"#),
            transfer(r#"[{"item":"a","qty":1},{"item":"b","qty":0}]"#),
            transfer(r#"[{"item":"a","qty":9007199254740992}]"#),
            transfer(r#"[{"item":"a"}]"#),
            transfer(r#"[{"qty":1}]"#),
            transfer(r#"[{"item":"a","qty":1,"colour":"red"}]"#),
            transfer(r#"[{"item":"a","qty":1,"qty":2}]"#),
            transfer(r#"[{"item":"a","qty":1,"value":{"amount":"-1","currency":"USD"}}]"#),
            transfer(r#"[{"item":"a","qty":1,"value":{"amount":"1"}}]"#),
            transfer(r#"[{"item":"a","qty":1,"value":"1 USD"}]"#),
            transfer(r#"[{"item":"a","qty":1,"value":{"amount":"1","currency":"USD","fx":1}}]"#),
            transfer(r#"[{"item":" a","qty":1}]"#),
            transfer(r#"[{"item":null,"qty":1}]"#),
            transfer(r#"{"item":"a","qty":1}"#),
            transfer(r#"[["a",1]]"#),
            transfer(r#"[{"item":"a","qty":1}]"#).replace(r#""donor":"A","#, ""),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "lines": expected at least one line
            t.jsonl:2: field "lines[2].item": item "a" is already on lines[0]
            t.jsonl:3: field "lines[1].qty": expected a positive integer of at most 9007199254740991
            t.jsonl:4: field "lines[0].qty": expected a positive integer of at most 9007199254740991
            t.jsonl:5: field "lines[0].qty": missing required field of lines[0]
            t.jsonl:6: field "lines[0].item": missing required field of lines[0]
            t.jsonl:7: field "lines[0].colour": unknown field for lines[0]: expected only item, qty and value
            t.jsonl:8: field "lines[0].qty": duplicate field
            t.jsonl:9: field "lines[0].value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:10: field "lines[0].value.currency": missing required field of lines[0].value
            t.jsonl:11: field "lines[0].value": expected an object like {"amount": "1234.50", "currency": "USD"}
            t.jsonl:12: field "lines[0].value.fx": unknown field for lines[0].value: expected only amount and currency
            t.jsonl:13: field "lines[0].item": expected an identifier without leading or trailing white space
            t.jsonl:14: field "lines[0].item": expected a non-empty string
            t.jsonl:15: field "lines": expected an array of objects like {"item": "155mm", "qty": 100}
            t.jsonl:16: field "lines[0]": expected an object like {"item": "155mm", "qty": 100}
            t.jsonl:17: field "donor": missing required field of a transfer record
        "#]],
    );
    check(
        r#"{"type":"allocate","id":"a","time":"2025-01-01","transfer":"t","item":"i","qty":1,"from":"d","override":{"reason":"r"}}
{"type":"allocate","id":"a","time":"2025-01-01","transfer":"t","item":"i","qty":1,"from":"d","override":{"reason":"  ","by":"b"}}
{"type":"allocate","id":"a","time":"2025-01-01","transfer":"t","item":"i","qty":1,"from":"d","override":{"reason":"r","by":"b","when":"now"}}
{"type":"allocate","id":"a","time":"2025-01-01","transfer":"t","item":"i","qty":1,"from":"d","override":"yes"}
{"type":"allocate","id":"a","time":"2025-01-01","transfer":"t","item":"i","qty":0,"from":"d"}
{"type":"cancel","id":"c","time":"2025-01-01","transfer":"t","qty":5}
{"type":"cancel","id":"c","time":"2025-01-01","transfer":"t","item":"i","qty":0}
{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b"}
{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b","items":[]}
{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b","items":["a","b","a"]}
{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b","items":"a"}
{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b","categories":["x",3]}
{"type":"pause","id":"p","time":"2025-01-01","reason":"","by":"b","donor":"A"}
{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b","donor":"A","review_by":"soon"}
{"type":"resume","id":"r","time":"2025-01-01"}
"#,
        expect![[r#"
            t.jsonl:1: field "override.by": missing required field of override
            t.jsonl:2: field "override.reason": expected a non-empty string that is not only white space
            t.jsonl:3: field "override.when": unknown field for override: expected only reason and by
            t.jsonl:4: field "override": expected an object like {"reason": "...", "by": "..."}
            t.jsonl:5: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:6: field "qty": expected only with item (a cancel without item takes every line's whole undispatched remainder)
            t.jsonl:7: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:8: a pause record needs at least one scope field: items, categories, donor, recipient or transfer
            t.jsonl:9: field "items": expected at least one of the items to pause
            t.jsonl:10: field "items": duplicate item "a"
            t.jsonl:11: field "items": expected an array of non-empty strings
            t.jsonl:12: field "categories": category 2 of 2: expected a string
            t.jsonl:13: field "reason": expected a non-empty string that is not only white space
            t.jsonl:14: field "review_by": expected an RFC 3339 time like "2025-07-04T12:00:00Z" (any offset, up to 9 fractional digits) or a date like "2025-07-04" (midnight UTC)
            t.jsonl:15: field "pause": missing required field of a resume record
        "#]],
    );
    check(
        r#"{"type":"production","id":"p","item":"i","to":"h","qty_per_month":1,"from_time":"2025-02-01","to_time":"2025-01-31T23:59:59.999999999Z"}
{"type":"consumption","id":"c","item":"i","org":"A","qty_per_month":-1,"from_time":"2025-02-01"}
{"type":"consumption","id":"c","item":"i","org":"A","qty_per_month":1,"from_time":"2025-02-01","to_time":"2025-01-01"}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{"drones":10},"intercepted":{"drones":11}}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{"drones":10},"intercepted":{"cruise_missiles":1}}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{"drones":10,"shaheds":3}}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{"drones":1.5}}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{}, "interceptors_used":{"PAC-3":1,"PAC-3":2}}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{}, "interceptors_used":{"":1}}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{}, "interceptors_used":{"PAC-3":-1}}
{"type":"threat","id":"t","time":"2025-01-01","region":"K","launched":{}, "interceptors_used":[]}
{"type":"threat","id":"t","time":"2025-01-01","region":"K"}
{"type":"inventory","id":"i","time":"2025-01-01","holder":"h","by":"M","counts":[{"item":"a","qty":1},{"item":"a","qty":2,"lot":"L"},{"item":"a","lot":"L","qty":3}]}
{"type":"inventory","id":"i","time":"2025-01-01","holder":"h","by":"M","counts":[{"item":"a","qty":1},{"item":"a","qty":2}]}
{"type":"inventory","id":"i","time":"2025-01-01","holder":"h","by":"M","counts":[{"item":"a","qty":1,"serial":"S"}]}
{"type":"inventory","id":"i","time":"2025-01-01","holder":"h","by":"M","serials_seen":["S1","S1"]}
{"type":"inventory","id":"i","time":"2025-01-01","holder":"h","by":"M\u0000"}
"#,
        expect![[r#"
            t.jsonl:1: field "to_time": expected a time at or after from_time (2025-02-01T00:00:00Z)
            t.jsonl:2: field "qty_per_month": expected a non-negative integer of at most 9007199254740991
            t.jsonl:3: field "to_time": expected a time at or after from_time (2025-02-01T00:00:00Z)
            t.jsonl:4: field "intercepted.drones": expected at most launched.drones (10)
            t.jsonl:5: field "intercepted.cruise_missiles": expected at most launched.cruise_missiles (0)
            t.jsonl:6: field "launched.shaheds": unknown field for launched: expected only drones, cruise_missiles and ballistic_missiles
            t.jsonl:7: field "launched.drones": expected a non-negative integer of at most 9007199254740991
            t.jsonl:8: field "interceptors_used.PAC-3": duplicate item code
            t.jsonl:9: field "interceptors_used": item code "": expected a non-empty string
            t.jsonl:10: field "interceptors_used.PAC-3": expected a non-negative integer of at most 9007199254740991
            t.jsonl:11: field "interceptors_used": expected an object of item codes and quantities like {"PAC-3": 4}
            t.jsonl:12: field "launched": missing required field of a threat record
            t.jsonl:13: field "counts[2].item": item "a" lot "L" is already counted in counts[1]
            t.jsonl:14: field "counts[1].item": item "a" is already counted in counts[0]
            t.jsonl:15: field "counts[0].serial": unknown field for counts[0]: expected only item, qty and lot
            t.jsonl:16: field "serials_seen": duplicate serial "S1"
            t.jsonl:17: field "by": expected an identifier without control characters, found U+0000 at byte 2
        "#]],
    );
}

#[test]
fn hostile_numbers_and_text() {
    let long = |n: usize| "x".repeat(n);
    check(
        &[
            movement("").replace(r#""qty":2"#, r#""qty":9007199254740992"#),
            movement("").replace(r#""qty":2"#, r#""qty":9007199254740991"#),
            r#"{"type":"floor","item":"i","org":"A","min_qty":9007199254740992}"#.to_owned(),
            movement("").replace(r#""m1""#, &format!("\"{}\"", long(257))),
            movement("").replace(r#""m1""#, &format!("\"{}\"", long(256))),
            movement("").replace(r#""m1""#, &format!("\"{}\"", "é".repeat(129))),
            movement("").replace(r#""m1""#, r#""m\u0007""#),
            movement("").replace(r#""m1""#, r#""m\u0085x""#),
            movement("").replace(r#""m1""#, r#""m\u007f""#),
            movement("").replace(r#""m1""#, r#"" m1""#),
            movement("").replace(r#""m1""#, r#""m1\u00a0""#),
            movement("").replace(r#""m1""#, r#""m 1""#),
            movement(r#","lot":"L\t1""#),
            movement(r#","serials":["S1","S\n2"]"#),
            movement(&format!(r#","note":"{}""#, long(4097))),
            movement(&format!(r#","note":"{}""#, long(4096))),
            movement(r#","note":"line one\nline two\u0000""#),
            r#"{"type":"org","id":"A","name":" \t "}"#.to_owned(),
            r#"{"type":"holder","id":"h","name":"\u3000","org":"A","kind":"depot"}"#.to_owned(),
            r#"{"type":"item","code":"c","name":"","category":"","tracking":"bulk"}"#.to_owned(),
            format!(
                r#"{{"type":"item","code":"c","name":"C","category":"{}","tracking":"bulk"}}"#,
                long(4097)
            ),
            // Ids that would look like others: zero-width space, right-to-left override,
            // byte-order mark, soft hyphen (Unicode's format characters).
            movement("").replace(r#""m1""#, r#""m\u200b1""#),
            movement("").replace(r#""m1""#, r#""m1\u202e""#),
            r#"{"type":"org","id":"\ufeffUS","name":"US"}"#.to_owned(),
            movement(r#","lot":"L\u00ad1""#),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "qty": expected a positive integer of at most 9007199254740991
            t.jsonl:3: field "min_qty": expected a non-negative integer of at most 9007199254740991
            t.jsonl:4: field "id": expected an identifier of at most 256 bytes, found 257
            t.jsonl:6: field "id": expected an identifier of at most 256 bytes, found 258
            t.jsonl:7: field "id": expected an identifier without control characters, found U+0007 at byte 2
            t.jsonl:8: field "id": expected an identifier without control characters, found U+0085 at byte 2
            t.jsonl:9: field "id": expected an identifier without control characters, found U+007F at byte 2
            t.jsonl:10: field "id": expected an identifier without leading or trailing white space
            t.jsonl:11: field "id": expected an identifier without leading or trailing white space
            t.jsonl:13: field "lot": expected an identifier without control characters, found U+0009 at byte 2
            t.jsonl:14: field "serials": serial 2 of 2: expected an identifier without control characters, found U+000A at byte 2
            t.jsonl:15: field "note": expected a string of at most 4096 bytes, found 4097
            t.jsonl:18: field "name": expected a non-empty string that is not only white space
            t.jsonl:19: field "name": expected a non-empty string that is not only white space
            t.jsonl:20: field "name": expected a non-empty string that is not only white space
            t.jsonl:21: field "category": expected a string of at most 4096 bytes, found 4097
            t.jsonl:22: field "id": expected an identifier without invisible format characters, found U+200B at byte 2
            t.jsonl:23: field "id": expected an identifier without invisible format characters, found U+202E at byte 3
            t.jsonl:24: field "id": expected an identifier without invisible format characters, found U+FEFF at byte 1
            t.jsonl:25: field "lot": expected an identifier without invisible format characters, found U+00AD at byte 2
        "#]],
    );
    let item = r#"{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","#;
    check(
        &[
            r#""unit_value":{"amount":"999999999999999.999999","currency":"USD"}}"#,
            r#""unit_value":{"amount":"1000000000000000","currency":"USD"}}"#,
            r#""unit_value":{"amount":"0.1234567","currency":"USD"}}"#,
            r#""unit_value":{"amount":"-0.5","currency":"USD"}}"#,
            r#""unit_value":{"amount":"-0","currency":"USD"}}"#,
            r#""unit_value":{"amount":"0","currency":"USD"}}"#,
            r#""unit_value":{"amount":"1e3","currency":"USD"}}"#,
        ]
        .map(|tail| format!("{item}{tail}"))
        .join("\n"),
        expect![[r#"
            t.jsonl:2: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:3: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:4: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:5: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
            t.jsonl:7: field "unit_value.amount": expected a non-negative decimal string like "1234.50", of at most 15 integer and 6 fractional digits
        "#]],
    );
}

#[test]
fn arrays_are_bounded() {
    let n = qm_core::limits::ARRAY_LEN_MAX;
    let serials = |n: usize| {
        (0..n)
            .map(|i| format!("\"S{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let at_max = movement(&format!(r#","serials":[{}]"#, serials(n)))
        .replace(r#""qty":2"#, &format!(r#""qty":{n}"#));
    let over = movement(&format!(r#","serials":[{}]"#, serials(n + 1)))
        .replace(r#""qty":2"#, &format!(r#""qty":{}"#, n + 1));
    let lines = |n: usize| {
        (0..n)
            .map(|i| format!(r#"{{"item":"i{i}","qty":1}}"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let transfer = |n: usize| {
        format!(
            r#"{{"type":"transfer","id":"t","time":"2025-01-01","donor":"A","recipient":"B","lines":[{}]}}"#,
            lines(n)
        )
    };
    assert!(parse_record(&at_max).is_ok());
    assert!(parse_record(&transfer(n)).is_ok());
    let seen = format!(
        r#"{{"type":"inventory","id":"i","time":"2025-01-01","holder":"h","by":"M","serials_seen":[{}]}}"#,
        serials(n + 5)
    );
    let escaped_over = over.replacen("\"S0\"", "\"S\\u0030\"", 1);
    let out = [over, escaped_over, transfer(n + 1), seen]
        .iter()
        .map(|l| parse_record(l).unwrap_err().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    expect![[r#"
        field "serials": expected at most 100000 serials
        field "serials": expected at most 100000 serials
        field "lines": expected at most 100000 lines
        field "serials_seen": expected at most 100000 serials"#]]
    .assert_eq(&out);
}

#[test]
fn times_outside_the_range() {
    let time = |t: &str| movement("").replace("2025-07-04T12:00:00Z", t);
    check(
        &[
            time("2262-04-11T23:47:16.854775808Z"),
            time("1677-09-21T00:12:43.145224191Z"),
            time("9999-12-31"),
            time("2262-04-12T01:47:16.854775808+02:00"),
            time("2262-04-11T23:47:16.854775807Z"),
            r#"{"type":"production","id":"p","item":"i","to":"h","qty_per_month":1,"from_time":"0001-01-01"}"#.to_owned(),
        ]
        .join("\n"),
        expect![[r#"
            t.jsonl:1: field "time": expected an RFC 3339 time within the supported range, 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z
            t.jsonl:2: field "time": expected an RFC 3339 time within the supported range, 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z
            t.jsonl:3: field "time": expected an RFC 3339 time within the supported range, 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z
            t.jsonl:4: field "time": expected an RFC 3339 time within the supported range, 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z
            t.jsonl:6: field "from_time": expected an RFC 3339 time within the supported range, 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z
        "#]],
    );
}

#[test]
fn bytes_that_are_not_utf8() {
    let good = movement("");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"\xef\xbb\xbf");
    bytes.extend_from_slice(good.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(&good.as_bytes()[..40]);
    bytes.extend_from_slice(b"\xff");
    bytes.extend_from_slice(&good.as_bytes()[40..]);
    bytes.extend_from_slice(b"\n\n");
    bytes.extend_from_slice(b"{\"type\":\"org\",\"id\":\"A\",\"name\":\"caf\xc3\"}\r\n");
    bytes.extend_from_slice(good.replace(r#""qty":2"#, r#""qty":0"#).as_bytes());
    bytes.extend_from_slice(b"\n\xe2\x82\xac\xe2\x82");
    let e = qm_interchange::parse_bytes("b.jsonl", &bytes, 10).unwrap_err();
    expect![[r#"
        b.jsonl:2: invalid UTF-8 at byte 41 of the line
        b.jsonl:4: invalid UTF-8 at byte 35 of the line
        b.jsonl:5: field "qty": expected a positive integer of at most 9007199254740991
        b.jsonl:6: invalid UTF-8 at byte 4 of the line"#]]
    .assert_eq(&e.to_string());
    // Valid UTF-8 reads as the text does, BOM, CRLF and line numbers included.
    let text = format!("\u{feff}{good}\r\n\n{good}");
    assert_eq!(
        qm_interchange::parse_bytes("b.jsonl", text.as_bytes(), 10),
        parse_text("b.jsonl", &text, 10)
    );
    let mut seen = Vec::new();
    qm_interchange::parse_bytes_with("b.jsonl", text.as_bytes(), 10, |line, _| seen.push(line))
        .unwrap();
    assert_eq!(seen, [1, 3]);
}
