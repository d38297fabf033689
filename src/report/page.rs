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
            r#"{head}<h1>{title}</h1>
{body}<p class="meta">{meta} · sibsim {version}</p>
</body></html>
"#,
            head = super::html::document_head(&escape(&self.title)),
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
