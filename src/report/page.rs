//! A plain results page for the decision commands (`solve`, `tornado`,
//! `voi`): a title, what was found in words, tables and pictures, in the
//! same self-contained style as `report.html`.

use super::charts::Picture;
use super::html::escape;
use super::ENGINE_VERSION;

/// A table: caption, column names, rows of cell text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Heading above the table.
    pub caption: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cell text (cells that parse as numbers are right-aligned).
    pub rows: Vec<Vec<String>>,
}

/// A page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// The title (`<h1>`).
    pub title: String,
    /// Paragraphs that say what was found, first thing on the page.
    pub findings: Vec<String>,
    /// The tables.
    pub tables: Vec<Table>,
    /// The pictures, inline.
    pub pictures: Vec<Picture>,
    /// A line about the run (replications, seed).
    pub meta: String,
}

fn is_number(cell: &str) -> bool {
    let t = cell.trim_start_matches(['−', '-', '+']);
    t.starts_with(|c: char| c.is_ascii_digit())
}

impl Page {
    /// The page as HTML.
    pub fn render(&self) -> String {
        let mut body = String::new();
        for paragraph in &self.findings {
            body.push_str(&format!("<p class=\"finding\">{}</p>\n", escape(paragraph)));
        }
        for table in &self.tables {
            body.push_str(&format!("<h2>{}</h2>\n<table><tr>", escape(&table.caption)));
            for h in &table.header {
                body.push_str(&format!("<th>{}</th>", escape(h)));
            }
            body.push_str("</tr>\n");
            for row in &table.rows {
                body.push_str("<tr>");
                for cell in row {
                    let class = if is_number(cell) { " class=n" } else { "" };
                    body.push_str(&format!("<td{class}>{}</td>", escape(cell)));
                }
                body.push_str("</tr>\n");
            }
            body.push_str("</table>\n");
        }
        if !self.pictures.is_empty() {
            body.push_str("<h2>Pictures</h2>\n");
        }
        for p in &self.pictures {
            body.push_str(&format!(
                "<figure>{}<figcaption>{}</figcaption></figure>\n",
                p.svg,
                escape(&p.caption)
            ));
        }
        format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sibsim: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #1a1a1a; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; width: 100%; font-size: .92rem; }}
th, td {{ padding: .3rem .5rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
figure {{ margin: 1rem 0; }} figcaption {{ font-size: .9rem; color: #555; }}
svg {{ max-width: 100%; height: auto; }} .meta {{ color: #555; font-size: .9rem; }}
.finding {{ font-size: 1.05rem; }}
</style></head><body>
<h1>{title}</h1>
{body}<p class="meta">{meta} · sibsim {version}</p>
</body></html>
"#,
            title = escape(&self.title),
            meta = escape(&self.meta),
            version = ENGINE_VERSION,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped_and_numbers_aligned() {
        let page = Page {
            title: "a < b".to_string(),
            findings: vec!["found".to_string()],
            tables: vec![Table {
                caption: "t".to_string(),
                header: vec!["x".to_string()],
                rows: vec![vec!["−12.5".to_string()], vec!["<b>".to_string()]],
            }],
            ..Page::default()
        }
        .render();
        assert!(page.contains("<h1>a &lt; b</h1>"));
        assert!(page.contains("<td class=n>−12.5</td>") && page.contains("<td>&lt;b&gt;</td>"));
    }
}
