//! Reading `workflow create --file`: JSON or YAML into the workflow file
//! model of `hammerwork::workflow::WorkflowFile` (see there for the format),
//! with the syntax error's line and column.

use std::path::Path;

use hammerwork::workflow::{LoadedWorkflow, WorkflowFile};

use crate::error::{CliError, CliResult};

/// Reads and checks the workflow file at `path` (`-`: standard input).
pub(crate) fn load(path: &Path) -> CliResult<LoadedWorkflow> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            CliError::invalid(format!("cannot read workflow file {}: {e}", path.display()))
        })?
    };
    let shown = path.display();
    let file = parse(path, &text).map_err(|e| CliError::invalid(format!("{shown}: {e}")))?;
    file.build()
        .map_err(|e| CliError::invalid(format!("{shown}: {e}")))
}

fn parse(path: &Path, text: &str) -> Result<WorkflowFile, String> {
    let json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("yaml" | "yml") => false,
        _ => text.trim_start().starts_with('{'),
    };
    if json {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| format!("invalid YAML: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_reads_the_same() {
        let yaml = "name: data_pipeline\nfailure_policy: manual\njobs:\n  - name: a\n    queue: q\n  - name: b\n    queue: q\n    depends_on: [a]\n    priority: high\n";
        let loaded = parse(Path::new("w.yaml"), yaml).unwrap().build().unwrap();
        assert_eq!(
            loaded.group.jobs()[1].depends_on,
            vec![loaded.group.jobs()[0].id]
        );
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = parse(
            Path::new("w.json"),
            "{\n  \"name\": \"w\",\n  \"jobs\": [,]\n}",
        )
        .err()
        .unwrap();
        assert!(err.contains("line 3"), "{err}");
        let err = parse(
            Path::new("w.yaml"),
            "name: w\njobs:\n  - name: a\n    queue: [q\n",
        )
        .err()
        .unwrap();
        assert!(err.contains("line"), "{err}");
    }
}
