//! `[fund]`: capital, fees, distribution, return cap, guarantee, tranches.

use super::{valid_name, Ctx, R, SUM_TOLERANCE};
use crate::model::fund::Fund;
use crate::scenario::raw::*;

pub(super) fn fund(ctx: &Ctx, raw: &RawFund) -> R<Fund> {
    use crate::model::fund::{Distribute, Tranche};
    let capital = ctx.positive(&raw.capital, "fund.capital", "a commitment", "capital > 0")?;
    let management_fee = match &raw.management_fee {
        Some(f) => ctx.non_negative(f, "fund.management_fee")?,
        None => 0.0,
    };
    let return_cap_multiple = raw
        .return_cap_multiple
        .as_ref()
        .map(|m| {
            ctx.positive(
                m,
                "fund.return_cap_multiple",
                "a cap",
                "a multiple > 0 (1.5 = at most 1.5 x the capital back)",
            )
        })
        .transpose()?;
    let first_loss = match &raw.guarantee {
        Some(g) => {
            let v = ctx.finite(&g.first_loss, "fund.guarantee.first_loss")?;
            if !(0.0..=1.0).contains(&v) {
                return Err(ctx.err(
                    g.first_loss.span(),
                    "fund.guarantee.first_loss",
                    format!("{v} is not a share; expected a number in [0, 1]"),
                ));
            }
            Some(v)
        }
        None => None,
    };
    let mut tranches = Vec::new();
    match &raw.tranches {
        None => tranches.push(Tranche {
            name: "investors".into(),
            share: 1.0,
            coupon: 0.0,
        }),
        Some(list) => {
            for (k, t) in list.get_ref().iter().enumerate() {
                let path = format!("fund.tranches[{k}]");
                let rt = t.get_ref();
                let name = rt.name.get_ref().clone();
                if !valid_name(&name) {
                    return Err(ctx.err(
                        rt.name.span(),
                        format!("{path}.name"),
                        format!("`{name}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters"),
                    ));
                }
                if tranches.iter().any(|x: &Tranche| x.name == name) {
                    return Err(ctx.err(
                        rt.name.span(),
                        format!("{path}.name"),
                        format!("tranche `{name}` is defined twice"),
                    ));
                }
                let share = ctx.non_negative(&rt.share, &format!("{path}.share"))?;
                let coupon = match &rt.coupon {
                    Some(c) => ctx.non_negative(c, &format!("{path}.coupon"))?,
                    None => 0.0,
                };
                tranches.push(Tranche { name, share, coupon });
            }
            if tranches.is_empty() {
                return Err(ctx.err(
                    list.span(),
                    "fund.tranches",
                    "no tranches; give at least one, or leave out [[fund.tranches]]",
                ));
            }
            let sum: f64 = tranches.iter().map(|t| t.share).sum();
            if (sum - 1.0).abs() > SUM_TOLERANCE {
                return Err(ctx.err(
                    list.span(),
                    "fund.tranches",
                    format!("tranche shares sum to {sum}; they must sum to 1"),
                ));
            }
        }
    }
    Ok(Fund {
        capital,
        management_fee,
        distribute: match raw.distribute {
            Some(RawDistribute::OnReceipt) => Distribute::OnReceipt,
            _ => Distribute::AtEnd,
        },
        return_cap_multiple,
        first_loss,
        tranches,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    fn check(text: &str) -> R<Fund> {
        #[derive(serde::Deserialize)]
        struct Doc {
            fund: RawFund,
        }
        let doc: Doc = raw(text);
        fund(&ctx(text, &[]), &doc.fund)
    }

    #[test]
    fn tranches_split_every_call_and_capital_is_positive() {
        let text = "[fund]\ncapital = 100.0\n[[fund.tranches]]\nname = \"senior\"\nshare = 0.6\ncoupon = 0.04\n[[fund.tranches]]\nname = \"junior\"\nshare = 0.4\n";
        let f = check(text).unwrap();
        assert_eq!(f.tranches.len(), 2);
        assert_eq!(f.tranches[0].coupon, 0.04);
        let uneven = text.replace("share = 0.4", "share = 0.3");
        assert_eq!(check(&uneven).unwrap_err().key_path, "fund.tranches");
        assert_eq!(check("[fund]\ncapital = 0.0\n").unwrap_err().key_path, "fund.capital");
    }
}
