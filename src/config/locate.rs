//! Finds where a key lives in a TOML document, so that errors found after
//! deserialization (range checks) and type errors can name the key and line.
//!
//! A small line scanner: it tracks `[table]` headers, `key = value` lines and
//! multi-line arrays/strings. It only has to understand documents that the
//! real TOML parser has already accepted (or rejected at a known offset).

/// 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The dotted key path (`receiver.baud`) whose definition covers `line`
/// (1-based): the key on that line, or the key whose multi-line value
/// continues there; a header line names its table.
pub fn key_path_at_line(text: &str, line: usize) -> Option<String> {
    scan(text)
        .into_iter()
        .take_while(|e| e.line <= line)
        .last()
        .filter(|e| e.line == line || e.end_line >= line)
        .map(|e| e.path)
}

/// The 1-based line where the dotted key path is defined. Falls back to the
/// nearest enclosing key or table (an inline table's line, a table header).
pub fn find_key_line(text: &str, path: &str) -> Option<usize> {
    let entries = scan(text);
    let mut p = path;
    loop {
        if let Some(e) = entries.iter().find(|e| e.path == p) {
            return Some(e.line);
        }
        // `a[5]` not found (an inline array of tables): `a`.
        p = match p.strip_suffix(']').and_then(|q| q.rfind('[')) {
            Some(i) => &p[..i],
            None => &p[..p.rfind('.')?],
        };
    }
}

struct Entry {
    line: usize,
    /// Last line of a multi-line value (== line otherwise).
    end_line: usize,
    path: String,
}

fn scan(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut arrays = ArrayTables::default();
    let mut depth: i32 = 0; // open brackets of a multi-line value
    let mut in_ml_string: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if let Some(delim) = in_ml_string {
            if raw.matches(delim).count() % 2 == 1 {
                in_ml_string = None;
            }
            extend_last(&mut out, line);
            continue;
        }
        if depth > 0 {
            depth += bracket_balance(raw);
            extend_last(&mut out, line);
            continue;
        }
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.starts_with('[') {
            let inner = l.trim_start_matches('[');
            let end = inner.find(']').unwrap_or(inner.len());
            table = arrays.resolve(&normalize_key(&inner[..end]), l.starts_with("[["));
            out.push(Entry {
                line,
                end_line: line,
                path: table.clone(),
            });
            continue;
        }
        let Some(eq) = find_unquoted(l, '=') else {
            continue;
        };
        let key = normalize_key(&l[..eq]);
        let path = if table.is_empty() {
            key
        } else {
            format!("{table}.{key}")
        };
        out.push(Entry {
            line,
            end_line: line,
            path,
        });
        let value = &l[eq + 1..];
        for delim in ["\"\"\"", "'''"] {
            if value.matches(delim).count() % 2 == 1 {
                in_ml_string = Some(delim);
            }
        }
        depth = bracket_balance(value).max(0);
    }
    out
}

/// The `[[array]]` tables seen so far, by indexed path (`a[1].b`), with how
/// many elements each has: a header's path names the element it opens or
/// belongs to, as the config's errors do (`ntp.watch[2].interval-s`).
#[derive(Default)]
struct ArrayTables {
    counts: std::collections::HashMap<String, usize>,
}

impl ArrayTables {
    /// The indexed path of a `[header]` (or a new element's, for
    /// `[[header]]`): each part that is an array so far means its last element.
    fn resolve(&mut self, header: &str, is_array: bool) -> String {
        let parts: Vec<&str> = header.split('.').collect();
        let mut path = String::new();
        for (j, part) in parts.iter().enumerate() {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(part);
            let n = if is_array && j + 1 == parts.len() {
                let n = self.counts.entry(path.clone()).or_insert(0);
                *n += 1;
                Some(*n)
            } else {
                self.counts.get(&path).copied()
            };
            if let Some(n) = n {
                path.push_str(&format!("[{}]", n - 1));
            }
        }
        path
    }
}

fn extend_last(out: &mut [Entry], line: usize) {
    if let Some(e) = out.last_mut() {
        e.end_line = line;
    }
}

/// Opening minus closing brackets/braces outside strings and comments.
fn bracket_balance(s: &str) -> i32 {
    let mut n = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in s.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '#' => break,
                '[' | '{' => n += 1,
                ']' | '}' => n -= 1,
                _ => {}
            },
        }
    }
    n
}

fn find_unquoted(s: &str, target: char) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == target => return Some(i),
            None => {}
        }
    }
    None
}

/// `a . "b" .c` → `a.b.c`.
fn normalize_key(k: &str) -> String {
    k.split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# c\n[receiver]\nbaud = 9600\n\n[ntp]\nallow = [\n  \"10.0.0.0/8\",\n]\nrate-limit = { interval-s = 2.0, burst = 8 }\nworkers = 0\n";

    #[test]
    fn finds_keys_and_lines() {
        assert_eq!(find_key_line(DOC, "receiver.baud"), Some(3));
        assert_eq!(find_key_line(DOC, "ntp.allow"), Some(6));
        assert_eq!(find_key_line(DOC, "ntp.workers"), Some(10));
        assert_eq!(find_key_line(DOC, "ntp.rate-limit.burst"), Some(9));
        assert_eq!(find_key_line(DOC, "ntp.missing"), Some(5));
        assert_eq!(find_key_line(DOC, "nothing"), None);
        assert_eq!(key_path_at_line(DOC, 3).as_deref(), Some("receiver.baud"));
        // Inside a multi-line array: the array's key.
        assert_eq!(key_path_at_line(DOC, 7).as_deref(), Some("ntp.allow"));
        // A blank line after a key belongs to no key.
        assert_eq!(key_path_at_line(DOC, 4), None);
        assert_eq!(line_col(DOC, 0), (1, 1));
        assert_eq!(line_col(DOC, DOC.find("baud").unwrap()), (3, 1));
    }

    const ARRAYS: &str = "[ntp]\nworkers = 1\n[[ntp.watch]]\nname = \"a\"\n[[ntp.watch]] # b\nname = \"b\"\n[ntp.watch.extra]\nx = 1\n\n[[ntp.watch]]\nname = \"c\"\ninterval-s = 0\n[[w]]\n[[w.v]]\n[[w]]\n[[w.v]]\ny = 2\n";

    #[test]
    fn array_table_elements_are_indexed() {
        assert_eq!(find_key_line(ARRAYS, "ntp.watch[0].name"), Some(4));
        assert_eq!(find_key_line(ARRAYS, "ntp.watch[1].name"), Some(6));
        assert_eq!(find_key_line(ARRAYS, "ntp.watch[2].name"), Some(11));
        assert_eq!(find_key_line(ARRAYS, "ntp.watch[2].interval-s"), Some(12));
        // A key the element lacks: the element's header.
        assert_eq!(find_key_line(ARRAYS, "ntp.watch[1].address"), Some(5));
        // A sub-table belongs to the last element so far.
        assert_eq!(find_key_line(ARRAYS, "ntp.watch[1].extra.x"), Some(8));
        // No such element: the array's table.
        assert_eq!(find_key_line(ARRAYS, "ntp.watch[7].name"), Some(1));
        // Nested arrays count within their parent element.
        assert_eq!(find_key_line(ARRAYS, "w[1].v[0].y"), Some(17));
        assert_eq!(
            key_path_at_line(ARRAYS, 12).as_deref(),
            Some("ntp.watch[2].interval-s")
        );
        assert_eq!(key_path_at_line(ARRAYS, 5).as_deref(), Some("ntp.watch[1]"));
    }
}
