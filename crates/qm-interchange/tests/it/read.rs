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
{"type":"item","code":"155mm","name":"155 mm shell","category":"ammunition","tracking":"lot","unit":"round","sensitive":true,"unit_value":{"currency":"EUR","amount":"-1234.50"},"inventory_interval_days":90}
{"type":"item","code":"rifle","name":"Rifle","category":"small arms","tracking":"serial"}
{"type":"floor","item":"155mm","org":"UA-MOD","min_qty":0}
{"type":"floor","item":"155mm","org":"UA-MOD","min_qty":5000,"time":"2025-07-04"}
{"type":"movement","id":"m1","time":"2025-07-04T14:00:00.250+02:00","item":"rifle","qty":2,"from":"src","to":"d1","serials":["SN-1","SN-2"],"kind":"delivery","transfer":"t-7","note":"caf\u00e9 \"quoted\"\ttab ✓"}
{"type":"holder","id":"h","name":"H","org":"A","kind":"depot","lat":-90,"lon":-180,"country":"UA"}
{"type":"holder","id":"h","name":"H","org":"A","kind":"unit","lat":1e1,"lon":0.1e-2}
{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","unit_value":{"amount":"0007.50","currency":"USD"},"unit":"","sensitive":false}
  {"note":"","lot":"L-2025","to":"u1","from":"d1","qty":18446744073709551615,"item":"155mm","time":"2025-07-04","id":"m2","type":"movement"}
"#,
        expect![[r#"
            1: {"type":"org","id":"UA-MOD","name":"Ministry of Defence","kind":"recipient"}
            2: {"type":"org","id":"D","name":"Donor"}
            4: {"type":"holder","id":"d1","name":"Depot 1","org":"UA-MOD","kind":"depot","country":"UA","lat":50.45,"lon":30.5236}
            5: {"type":"holder","id":"src","name":"Production","org":"D","kind":"source","lat":-0.0,"lon":180.0}
            6: {"type":"item","code":"155mm","name":"155 mm shell","category":"ammunition","tracking":"lot","unit":"round","sensitive":true,"unit_value":{"amount":"-1234.50","currency":"EUR"},"inventory_interval_days":90}
            7: {"type":"item","code":"rifle","name":"Rifle","category":"small arms","tracking":"serial"}
            8: {"type":"floor","item":"155mm","org":"UA-MOD","min_qty":0}
            9: {"type":"floor","item":"155mm","org":"UA-MOD","min_qty":5000,"time":"2025-07-04T00:00:00Z"}
            10: {"type":"movement","id":"m1","time":"2025-07-04T12:00:00.25Z","item":"rifle","qty":2,"from":"src","to":"d1","serials":["SN-1","SN-2"],"kind":"delivery","transfer":"t-7","note":"café \"quoted\"\ttab ✓"}
            11: {"type":"holder","id":"h","name":"H","org":"A","kind":"depot","country":"UA","lat":-90.0,"lon":-180.0}
            12: {"type":"holder","id":"h","name":"H","org":"A","kind":"unit","lat":10.0,"lon":0.001}
            13: {"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","unit":"","sensitive":false,"unit_value":{"amount":"0007.50","currency":"USD"}}
            14: {"type":"movement","id":"m2","time":"2025-07-04T00:00:00Z","item":"155mm","qty":18446744073709551615,"from":"d1","to":"u1","lot":"L-2025","note":""}
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
            t.jsonl:1: invalid JSON: EOF while parsing an object at line 1 column 33
            t.jsonl:2: expected a JSON object, found an array
            t.jsonl:3: expected a JSON object, found a string
            t.jsonl:4: expected a JSON object, found a number
            t.jsonl:5: expected a JSON object, found null
            t.jsonl:6: invalid JSON: trailing characters at line 1 column 36
            t.jsonl:7: invalid JSON: trailing characters at line 1 column 35
        "#]],
    );
    check(
        "{\"type\":\"org\",\"id\":\"\\ud800\",\"name\":\"a\"}\nnot json\n",
        expect![[r#"
        t.jsonl:1: invalid JSON: unexpected end of hex escape at line 1 column 27
        t.jsonl:2: invalid JSON: expected ident at line 1 column 2
    "#]],
    );
}

#[test]
fn record_type() {
    check(
        r#"{}
{"id":"A","name":"a"}
{"type":"Org","id":"A","name":"a"}
{"type":"transfer","id":"A"}
{"type":7,"id":"A","name":"a"}
{"type":null}
"#,
        expect![[r#"
            t.jsonl:1: field "type": missing required field
            t.jsonl:2: field "type": missing required field
            t.jsonl:3: field "type": unknown record type "Org": expected org, holder, item, floor or movement
            t.jsonl:4: field "type": unknown record type "transfer": expected org, holder, item, floor or movement
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
            t.jsonl:1: field "qty": expected a positive integer
            t.jsonl:2: field "qty": expected a positive integer
            t.jsonl:3: field "qty": expected a positive integer
            t.jsonl:4: field "qty": expected a positive integer
            t.jsonl:5: field "qty": expected a positive integer
            t.jsonl:6: field "qty": expected a positive integer
            t.jsonl:7: field "min_qty": expected a non-negative integer
            t.jsonl:8: field "min_qty": expected a non-negative integer
        "#]],
    );
    check(
        r#"{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","inventory_interval_days":4294967296}
{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","inventory_interval_days":-1}
{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","inventory_interval_days":4294967295}
"#,
        expect![[r#"
            t.jsonl:1: field "inventory_interval_days": expected a non-negative integer of at most 4294967295
            t.jsonl:2: field "inventory_interval_days": expected a non-negative integer
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
            t.jsonl:7: field "unit_value.amount": expected a decimal string like "1234.50" or "-0.5"
            t.jsonl:8: field "unit_value.amount": expected a decimal string like "1234.50" or "-0.5"
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
            t.jsonl:1: field "unit_value.amount": expected a decimal string like "1234.50" or "-0.5"
            t.jsonl:2: field "unit_value.amount": expected a decimal string like "1234.50" or "-0.5"
            t.jsonl:3: field "unit_value.amount": expected a decimal string like "1234.50" or "-0.5"
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
        t.jsonl:1: field "qty": expected a positive integer
        t.jsonl:2: field "qty": expected a positive integer
        t.jsonl:4: field "qty": expected a positive integer
        t.jsonl:5: field "qty": expected a positive integer
        t.jsonl:7: field "qty": expected a positive integer
        t.jsonl:8: field "qty": expected a positive integer
    "#]],
    );
    let e = parse_text("t.jsonl", &text, 4).unwrap_err();
    expect![[r#"
        t.jsonl:1: field "qty": expected a positive integer
        t.jsonl:2: field "qty": expected a positive integer
        t.jsonl:4: field "qty": expected a positive integer
        t.jsonl:5: field "qty": expected a positive integer
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
    expect![[r#"invalid JSON: EOF while parsing a list at line 1 column 1 / FieldError { field: None, message: "invalid JSON: EOF while parsing a list at line 1 column 1" }"#]].assert_eq(&format!("{e} / {e:?}"));
}
