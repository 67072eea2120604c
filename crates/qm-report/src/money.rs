//! Money in reports: amounts kept as integers of millionths (the interchange allows at most
//! six fractional digits) in 256 bits, so every value a ledger can produce is exact: a unit
//! value below 10^15 (10^21 millionths, under 2^70) times any quantity a report multiplies
//! it by (below 2^128) is below 2^198, and sums of them stay exact for more than 2^57 terms.
//! A product or sum past 2^256 - 1 (unreachable by accepted input) makes the sum's total
//! *overflowed*, an explicit state that reports show as such, never a silently missing value.
//! Written back as decimal text with at least two fractional digits (`"1234.50"`).

use qm_core::Money;
use serde::Serialize;

use crate::wide::U256;

/// Millionths in one unit.
const SCALE: u128 = 1_000_000;

/// A non-negative amount of one currency, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    /// Millionths of the currency unit.
    pub micros: U256,
}

impl Amount {
    /// Reads a decimal amount of the interchange format (`"1234.50"`, at most six fractional
    /// digits, no sign); `None` for anything else.
    pub fn parse(s: &str) -> Option<Amount> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || int.len() > 30 || frac.len() > 6 {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let int: u128 = int.parse().ok()?;
        let frac_micros: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse::<u128>().ok()? * 10u128.pow(6 - frac.len() as u32)
        };
        let micros = int.checked_mul(SCALE)?.checked_add(frac_micros)?;
        Some(Amount {
            micros: U256::from_u128(micros),
        })
    }

    /// `self * qty / of`, rounded half to even to the nearest millionth: the share of a
    /// line's total value that `qty` of its `of` units carry.
    pub fn share(self, qty: u64, of: u64) -> Option<Amount> {
        if of == 0 {
            return None;
        }
        let num = self.micros.checked_mul_u128(qty as u128)?;
        let of = of as u128;
        let (q, r) = num.div_rem(of);
        let round_up = 2 * r > of || (2 * r == of && q.lo % 2 != 0);
        let micros = if round_up {
            q.checked_add(U256::from_u128(1))?
        } else {
            q
        };
        Some(Amount { micros })
    }

    /// `self * qty`; `None` past 2^256 - 1.
    pub fn times(self, qty: u128) -> Option<Amount> {
        self.micros
            .checked_mul_u128(qty)
            .map(|micros| Amount { micros })
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.micros
            .checked_add(other.micros)
            .map(|micros| Amount { micros })
    }

    /// The decimal text: at least two fractional digits, more only when needed.
    pub fn to_text(self) -> String {
        let (int, frac) = self.micros.div_rem(SCALE);
        // The integer part's digits, 18 at a time.
        const CHUNK: u128 = 1_000_000_000_000_000_000;
        let mut chunks = Vec::new();
        let mut rest = int;
        loop {
            let (q, r) = rest.div_rem(CHUNK);
            chunks.push(r);
            if q == U256::ZERO {
                break;
            }
            rest = q;
        }
        let mut out = chunks.pop().unwrap_or(0).to_string();
        for c in chunks.iter().rev() {
            out.push_str(&format!("{c:018}"));
        }
        let frac = format!("{frac:06}");
        let frac = frac.trim_end_matches('0');
        out.push('.');
        out.push_str(&format!("{frac:0<2}"));
        out
    }
}

/// A sum of money in one currency, as the interchange writes money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneyOut {
    pub amount: String,
    pub currency: String,
}

/// Adds up amounts that may be of several currencies: the total is known while every part is
/// of one currency; an overflow (past 2^256 - 1 millionths) is kept as such.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoneySum {
    state: SumState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum SumState {
    #[default]
    Empty,
    One(String, Amount),
    /// Past 2^256 - 1 millionths, in one currency.
    Overflow(String),
    /// Mixed currencies, or an unreadable amount.
    Unknown,
}

impl MoneySum {
    /// Adds an amount; `None` is an unreadable one (the total becomes unknown).
    pub fn add(&mut self, currency: &str, amount: Option<Amount>) {
        self.add_checked(currency, amount.ok_or(false));
    }

    /// `Err(true)`: an amount past 2^256 - 1; `Err(false)`: an unreadable one.
    fn add_checked(&mut self, currency: &str, amount: Result<Amount, bool>) {
        self.state = match (std::mem::take(&mut self.state), amount) {
            (SumState::Unknown, _) | (_, Err(false)) => SumState::Unknown,
            (SumState::Empty, Ok(a)) => SumState::One(currency.to_owned(), a),
            (SumState::Empty, Err(true)) => SumState::Overflow(currency.to_owned()),
            (SumState::One(c, a), Ok(b)) if c == currency => match a.checked_add(b) {
                Some(s) => SumState::One(c, s),
                None => SumState::Overflow(c),
            },
            (SumState::One(c, _), Err(true)) | (SumState::Overflow(c), Ok(_) | Err(true))
                if c == currency =>
            {
                SumState::Overflow(c)
            }
            (SumState::One(..) | SumState::Overflow(_), _) => SumState::Unknown,
        };
    }

    /// Adds the value of `qty` units at `unit` money each.
    pub fn add_units(&mut self, unit: &Money, qty: u128) {
        let a = match Amount::parse(&unit.amount) {
            Some(a) => a.times(qty).ok_or(true),
            None => Err(false),
        };
        self.add_checked(&unit.currency, a);
    }

    /// Adds the share of a line's total value that `qty` of its `of` units carry.
    pub fn add_share(&mut self, total: &Money, qty: u64, of: u64) {
        let a = match Amount::parse(&total.amount) {
            Some(a) if of > 0 => a.share(qty, of).ok_or(true),
            _ => Err(false),
        };
        self.add_checked(&total.currency, a);
    }

    pub fn merge(&mut self, other: &MoneySum) {
        match &other.state {
            SumState::Empty => {}
            SumState::One(c, a) => self.add_checked(c, Ok(*a)),
            SumState::Overflow(c) => self.add_checked(c, Err(true)),
            SumState::Unknown => self.state = SumState::Unknown,
        }
    }

    /// The total, when it is known and there is one. An overflowed sum has none: see
    /// [`MoneySum::overflowed`].
    pub fn total(&self) -> Option<MoneyOut> {
        match &self.state {
            SumState::One(c, a) => Some(MoneyOut {
                amount: a.to_text(),
                currency: c.clone(),
            }),
            _ => None,
        }
    }

    /// Whether the sum went past 2^256 - 1 millionths (no accepted input gets there).
    pub fn overflowed(&self) -> bool {
        matches!(self.state, SumState::Overflow(_))
    }

    pub fn is_empty(&self) -> bool {
        self.state == SumState::Empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_add_share_and_print_exactly() {
        let a = Amount::parse("1234.5").unwrap();
        assert_eq!(a.to_text(), "1234.50");
        assert_eq!(Amount::parse("0.000001").unwrap().to_text(), "0.000001");
        assert_eq!(Amount::parse("7").unwrap().to_text(), "7.00");
        assert_eq!(Amount::parse("1.0000001"), None);
        assert_eq!(Amount::parse("1e3"), None);
        assert_eq!(Amount::parse("-0.5"), None);
        // A third of 100.00 is 33.333333 (half to even on the seventh digit).
        assert_eq!(
            Amount::parse("100").unwrap().share(1, 3).unwrap().to_text(),
            "33.333333"
        );
        assert_eq!(
            Amount::parse("0.000001")
                .unwrap()
                .share(1, 2)
                .unwrap()
                .to_text(),
            "0.00"
        );
        assert_eq!(
            Amount::parse("0.000003")
                .unwrap()
                .share(1, 2)
                .unwrap()
                .to_text(),
            "0.000002"
        );
        let mut s = MoneySum::default();
        s.add_units(
            &Money {
                amount: "999999999999999.999999".into(),
                currency: "USD".into(),
            },
            9_007_199_254_740_991,
        );
        assert_eq!(
            s.total().unwrap().amount,
            "9007199254740990999990992800745.259009",
            "the largest value times the largest qty, exactly"
        );
        // 200 balances of 2^53 - 1 at the largest value, and a sum of 2^62 of them: exact.
        let unit = Money {
            amount: "999999999999999.999999".into(),
            currency: "USD".into(),
        };
        let mut s = MoneySum::default();
        s.add_units(&unit, 200 * 9_007_199_254_740_991);
        assert_eq!(
            s.total().unwrap().amount,
            "1801439850948198199998198560149051.8018"
        );
        let mut big = MoneySum::default();
        big.add_units(&unit, u128::MAX);
        assert_eq!(
            big.total().unwrap().amount,
            "340282366920938463463034325064847272991536625392568231.788545"
        );
        // Past 2^256 - 1 the sum says so.
        let mut over = MoneySum::default();
        over.add(
            "USD",
            Some(Amount {
                micros: U256 {
                    hi: u128::MAX,
                    lo: 0,
                },
            }),
        );
        over.add(
            "USD",
            Some(Amount {
                micros: U256 { hi: 1, lo: 0 },
            }),
        );
        assert!(over.overflowed());
        assert_eq!(over.total(), None);
        s.add("EUR", Some(a));
        assert_eq!(s.total(), None, "mixed currencies have no total");
    }
}
