//! bench/pdk's transform, with the Rust PDK: {"items":[{"id","name","price","tags"}...]}
//! -> {"count":N,"total":SUM(price),"sale":[ids of items tagged "sale"]}. The same
//! function as transform.c and the AssemblyScript ones (bench/pdk.mjs checks they agree).
use forge_pdk::json::{self, Number, Value};
use forge_pdk::{export, Error, Result};

fn transform(input: Vec<u8>) -> Result<Vec<u8>> {
    let doc = json::parse(&input)?;
    let items = doc.get("items").and_then(Value::as_array).ok_or_else(|| Error::new("E_SHAPE", "items must be an array"))?;
    let mut total: i64 = 0;
    let mut sale = Vec::new();
    for item in items {
        total += item.get("price").and_then(Value::as_i64).unwrap_or(0);
        let tagged = item.get("tags").and_then(Value::as_array).map_or(false, |tags| tags.iter().any(|tag| tag.as_str() == Some("sale")));
        if tagged {
            sale.push(Value::Number(Number::Int(item.get("id").and_then(Value::as_i64).unwrap_or(0))));
        }
    }
    let out = Value::object(vec![
        ("count", Value::Number(Number::Int(items.len() as i64))),
        ("total", Value::Number(Number::Int(total))),
        ("sale", Value::Array(sale)),
    ]);
    json::to_vec(&out)
}

export!(transform => transform);
