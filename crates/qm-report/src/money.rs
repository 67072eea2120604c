//! Money in reports: amounts kept as integers of millionths (the interchange allows at most
//! six fractional digits), so sums are exact and checked; written back as decimal text with
//! at least two fractional digits (`"1234.50"`).

use qm_core::Money;
use serde::Serialize;

/// Millionths in one unit.
const SCALE: i128 = 1_000_000;

/// An amount of one currency, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    /// Millionths of the currency unit.
    pub micros: i128,
}

impl Amount {
    /// Reads a decimal amount of the interchange format (`"1234.50"`, at most six fractional
    /// digits); `None` for anything else.
    pub fn parse(s: &str) -> Option<Amount> {
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || int.len() > 30 || frac.len() > 6 {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let int: i128 = int.parse().ok()?;
        let frac_micros: i128 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i128>().ok()? * 10i128.pow(6 - frac.len() as u32)
        };
        let micros = int.checked_mul(SCALE)?.checked_add(frac_micros)?;
        Some(Amount {
            micros: if neg { -micros } else { micros },
        })
    }

    /// `self * qty / of`, rounded half to even to the nearest millionth: the share of a
    /// line's total value that `qty` of its `of` units carry.
    pub fn share(self, qty: u64, of: u64) -> Option<Amount> {
        if of == 0 {
            return None;
        }
        let num = self.micros.checked_mul(qty as i128)?;
        let of = of as i128;
        let (q, r) = (num.div_euclid(of), num.rem_euclid(of));
        let round_up = 2 * r > of || (2 * r == of && q % 2 != 0);
        Some(Amount {
            micros: q + round_up as i128,
        })
    }

    pub fn times(self, qty: u64) -> Option<Amount> {
        self.micros
            .checked_mul(qty as i128)
            .map(|micros| Amount { micros })
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.micros
            .checked_add(other.micros)
            .map(|micros| Amount { micros })
    }

    /// The decimal text: at least two fractional digits, more only when needed.
    pub fn to_text(self) -> String {
        let sign = if self.micros < 0 { "-" } else { "" };
        let abs = self.micros.unsigned_abs();
        let int = abs / SCALE as u128;
        let frac = format!("{:06}", abs % SCALE as u128);
        let frac = frac.trim_end_matches('0');
        let frac = format!("{frac:0<2}");
        format!("{sign}{int}.{frac}")
    }
}

/// A sum of money in one currency, as the interchange writes money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneyOut {
    pub amount: String,
    pub currency: String,
}

/// Adds up amounts that may be of several currencies: the total is known only while every
/// part is of one currency and nothing overflowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoneySum {
    state: SumState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum SumState {
    #[default]
    Empty,
    One(String, Amount),
    /// Mixed currencies, an overflow, or an unreadable amount.
    Unknown,
}

impl MoneySum {
    pub fn add(&mut self, currency: &str, amount: Option<Amount>) {
        self.state = match (std::mem::take(&mut self.state), amount) {
            (_, None) | (SumState::Unknown, _) => SumState::Unknown,
            (SumState::Empty, Some(a)) => SumState::One(currency.to_owned(), a),
            (SumState::One(c, a), Some(b)) if c == currency => match a.checked_add(b) {
                Some(s) => SumState::One(c, s),
                None => SumState::Unknown,
            },
            (SumState::One(..), Some(_)) => SumState::Unknown,
        };
    }

    /// Adds the value of `qty` units at `unit` money each.
    pub fn add_units(&mut self, unit: &Money, qty: u64) {
        let a = Amount::parse(&unit.amount).and_then(|a| a.times(qty));
        self.add(&unit.currency, a);
    }

    /// Adds the share of a line's total value that `qty` of its `of` units carry.
    pub fn add_share(&mut self, total: &Money, qty: u64, of: u64) {
        let a = Amount::parse(&total.amount).and_then(|a| a.share(qty, of));
        self.add(&total.currency, a);
    }

    pub fn merge(&mut self, other: &MoneySum) {
        match &other.state {
            SumState::Empty => {}
            SumState::One(c, a) => self.add(c, Some(*a)),
            SumState::Unknown => self.state = SumState::Unknown,
        }
    }

    /// The total, when it is known and there is one.
    pub fn total(&self) -> Option<MoneyOut> {
        match &self.state {
            SumState::One(c, a) => Some(MoneyOut {
                amount: a.to_text(),
                currency: c.clone(),
            }),
            _ => None,
        }
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
        assert_eq!(Amount::parse("-0.5").unwrap().to_text(), "-0.50");
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
        assert!(
            s.total().is_some(),
            "the largest value times the largest qty fits"
        );
        s.add("EUR", Some(a));
        assert_eq!(s.total(), None, "mixed currencies have no total");
    }
}
