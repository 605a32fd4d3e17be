//! The Rust blocks of the user guide `spawning.md` (shared/spec), compiled
//! against the crate as it is. A block that type-checks as written is here
//! verbatim between its `---- block text ----` markers, in the context a
//! reader assumes (imports of earlier blocks, undefined names as
//! parameters). A block that cannot compile as written (a value used after
//! a move, a builder result thrown away, `anyhow!` where our `Result` is
//! expected, a std method that does not exist) is here in its nearest sound
//! form, marked FIXED, with what changed; the guide's text is not ours to
//! edit. Pseudo-code blocks (`job1 -> job2`) are left out.
#![allow(
    dead_code,
    unused_variables,
    clippy::all,
    missing_docs,
    unreachable_pub
)]

#[rustfmt::skip]
mod block_23_fixed {
    //! Block 23: spawning.md line 21: `use hammerwork::spawn::{SpawnHandler, SpawnContext, SpawnConfig};`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // ---- block text, FIXED: `Err(anyhow!(..))` becomes `Err(SpawnError::rejected(..))`: our handlers return `hammerwork::Result` ----
    use hammerwork::spawn::{SpawnHandler, SpawnContext, SpawnConfig};
    use hammerwork::{Job, Result};

    #[derive(Clone)]
    pub struct DataProcessingSpawner;

    #[async_trait]
    impl SpawnHandler<sqlx::Postgres> for DataProcessingSpawner {
        async fn spawn_jobs(&self, context: SpawnContext<sqlx::Postgres>) -> Result<Vec<Job>> {
            let parent_job = &context.parent_job;
            let config = &context.config;

            // Extract data from parent job
            let file_path = parent_job.payload["file_path"].as_str().unwrap();
            let batch_size = parent_job.payload["batch_size"].as_u64().unwrap_or(1000);

            // Create child jobs for parallel processing
            let mut child_jobs = Vec::new();
            for i in 0..config.max_spawn_count.unwrap_or(10) {
                let child_job = Job::new(
                    "process_batch",
                    serde_json::json!({
                        "file_path": file_path,
                        "start_offset": i * batch_size,
                        "end_offset": (i + 1) * batch_size,
                        "batch_id": format!("batch-{}", i)
                    })
                )
                .with_priority(parent_job.priority) // Inherit priority if configured
                .depends_on_jobs(vec![parent_job.id]); // Set parent dependency

                child_jobs.push(child_job);
            }

            Ok(child_jobs)
        }

        async fn validate_spawn(&self, parent_job: &Job, config: &SpawnConfig) -> Result<()> {
            // Validate that spawning is appropriate for this job
            if !parent_job.payload.get("file_path").is_some() {
                return Err(hammerwork::spawn::SpawnError::rejected("Parent job missing required file_path"));
            }
            Ok(())
        }
    }
    // ---- end of block ----

}

#[rustfmt::skip]
mod block_24_fixed {
    //! Block 24: spawning.md line 73: `use hammerwork::spawn::{SpawnManager, SpawnConfig};`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // Context: block 23's spawner (a minimal, compiling stand-in, since block 23 itself fails).
    #[derive(Clone)]
    pub struct DataProcessingSpawner;
    #[async_trait::async_trait]
    impl hammerwork::spawn::SpawnHandler<sqlx::Postgres> for DataProcessingSpawner {
        async fn spawn_jobs(&self, _c: hammerwork::spawn::SpawnContext<sqlx::Postgres>) -> hammerwork::Result<Vec<hammerwork::Job>> {
            Ok(Vec::new())
        }
    }

    // ---- block's leading `use` lines, verbatim ----
    use hammerwork::spawn::{SpawnManager, SpawnConfig};
    use hammerwork::Worker;


    #[allow(unused_variables)]
    pub async fn block_24<Q: hammerwork::Storage + Clone + hammerwork::StorageDatabase<Database = sqlx::Postgres>>(queue: Q, job_handler: impl hammerwork::JobHandler) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, FIXED: `Worker::new` names its queue, and there is no `.build()`: `new` already returns the worker ----
    // Create spawn manager and register handlers
    let mut spawn_manager = SpawnManager::new();
    spawn_manager.register_handler("data_processor", DataProcessingSpawner);

    // Configure spawning behavior
    let spawn_config = SpawnConfig::new()
        .with_max_spawn_count(20)
        .with_inherit_priority(true)
        .with_spawn_delay(Duration::from_millis(100));

    // Attach to worker for automatic spawn execution
    let worker = Worker::new(queue.clone(), "large_dataset", job_handler)
        .with_spawn_manager(spawn_manager);
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_25 {
    //! Block 25: spawning.md line 97: `use hammerwork::{Job, JobSpawnExt};`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // ---- block's leading `use` lines, verbatim ----
    use hammerwork::{Job, JobSpawnExt};
    use serde_json::json;


    #[allow(unused_variables)]
    pub async fn block_25(spawn_config: hammerwork::spawn::SpawnConfig) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    // Method 1: Using JobSpawnExt trait
    let job = Job::new("large_dataset", json!({"dataset_id": "ds-123"}))
        .with_spawn_handler("data_processor")
        .with_spawn_config(spawn_config);

    // Method 2: Manual payload configuration
    let job = Job::new(
        "large_dataset",
        json!({
            "dataset_id": "ds-123",
            "records_count": 50000,
            "_spawn_config": {
                "handler": "data_processor",
                "max_spawn_count": 15,
                "operation_id": "op-dataset-123",
                "inherit_priority": true,
                "spawn_delay_ms": 200
            }
        })
    );
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_26 {
    //! Block 26: spawning.md line 127: `use hammerwork::spawn::SpawnConfig;`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // ---- block's leading `use` lines, verbatim ----
    use hammerwork::spawn::SpawnConfig;
    use std::time::Duration;


    #[allow(unused_variables)]
    pub async fn block_26() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let config = SpawnConfig::new()
        .with_handler("batch_processor")           // Handler name
        .with_max_spawn_count(50)                  // Maximum children to spawn
        .with_inherit_priority(true)               // Inherit parent's priority
        .with_inherit_queue(false)                 // Use different queue for children
        .with_spawn_delay(Duration::from_millis(100))  // Delay between spawning children
        .with_operation_id("custom-op-123")        // Custom operation identifier
        .with_batch_size(10);                      // Process children in batches
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_27 {
    //! Block 27: spawning.md line 143: `// Complex spawn configuration with metadata`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    #[allow(unused_variables)]
    pub async fn block_27() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    // Complex spawn configuration with metadata
    let advanced_config = SpawnConfig::new()
        .with_handler("image_processor")
        .with_max_spawn_count(100)
        .with_inherit_priority(true)
        .with_metadata(json!({
            "image_format": "jpeg",
            "quality_settings": {
                "thumbnail": "low",
                "preview": "medium", 
                "full": "high"
            },
            "output_bucket": "processed-images"
        }));
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_28 {
    //! Block 28: spawning.md line 166: `#[derive(Clone)]`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // ---- block text, verbatim ----
    #[derive(Clone)]
    pub struct DatasetProcessor;

    #[async_trait]
    impl SpawnHandler<sqlx::Postgres> for DatasetProcessor {
        async fn spawn_jobs(&self, context: SpawnContext<sqlx::Postgres>) -> Result<Vec<Job>> {
            let dataset_size = context.parent_job.payload["size"].as_u64().unwrap();
            let chunk_size = 1000;
            let num_chunks = (dataset_size + chunk_size - 1) / chunk_size; // Ceiling division

            let mut jobs = Vec::new();
            for i in 0..num_chunks {
                let start = i * chunk_size;
                let end = std::cmp::min(start + chunk_size, dataset_size);

                let job = Job::new(
                    "process_chunk",
                    serde_json::json!({
                        "chunk_id": i,
                        "start_index": start,
                        "end_index": end,
                        "dataset_id": context.parent_job.payload["dataset_id"]
                    })
                ).with_priority(context.parent_job.priority);

                jobs.push(job);
            }

            Ok(jobs)
        }
    }
    // ---- end of block ----

}

#[rustfmt::skip]
mod block_29 {
    //! Block 29: spawning.md line 204: `#[derive(Clone)]`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // ---- block text, verbatim ----
    #[derive(Clone)]
    pub struct ImageProcessor;

    #[async_trait]
    impl SpawnHandler<sqlx::Postgres> for ImageProcessor {
        async fn spawn_jobs(&self, context: SpawnContext<sqlx::Postgres>) -> Result<Vec<Job>> {
            let image_ids = context.parent_job.payload["image_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap())
                .collect::<Vec<_>>();

            let sizes = ["thumbnail", "medium", "large"];
            let mut jobs = Vec::new();

            for image_id in image_ids {
                for &size in &sizes {
                    let job = Job::new(
                        "resize_image",
                        serde_json::json!({
                            "image_id": image_id,
                            "target_size": size,
                            "source_bucket": context.parent_job.payload["source_bucket"],
                            "output_bucket": context.parent_job.payload["output_bucket"]
                        })
                    );
                    jobs.push(job);
                }
            }

            Ok(jobs)
        }
    }
    // ---- end of block ----

}

#[rustfmt::skip]
mod block_30_fixed {
    //! Block 30: spawning.md line 245: `#[derive(Clone)]`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // ---- block text, FIXED: `Err(anyhow!(..))` becomes `Err(SpawnError::failed(..))` ----
    #[derive(Clone)]
    pub struct WorkflowDecomposer;

    #[async_trait]
    impl SpawnHandler<sqlx::Postgres> for WorkflowDecomposer {
        async fn spawn_jobs(&self, context: SpawnContext<sqlx::Postgres>) -> Result<Vec<Job>> {
            let workflow_type = context.parent_job.payload["workflow_type"].as_str().unwrap();

            let steps = match workflow_type {
                "etl_pipeline" => vec![
                    ("extract", json!({"source": "database"})),
                    ("transform", json!({"rules": "business_rules.json"})),
                    ("load", json!({"target": "data_warehouse"}))
                ],
                "ml_training" => vec![
                    ("preprocess", json!({"features": ["feature_1", "feature_2"]})),
                    ("train", json!({"algorithm": "random_forest"})),
                    ("validate", json!({"test_split": 0.2})),
                    ("deploy", json!({"environment": "staging"}))
                ],
                _ => return Err(hammerwork::spawn::SpawnError::failed(format!("Unknown workflow type: {}", workflow_type)))
            };

            let mut jobs = Vec::new();
            let mut previous_job_id = Some(context.parent_job.id);

            for (step_name, step_config) in steps {
                let mut job = Job::new(step_name, step_config);

                if let Some(prev_id) = previous_job_id {
                    job = job.depends_on_jobs(vec![prev_id]);
                }

                previous_job_id = Some(job.id);
                jobs.push(job);
            }

            Ok(jobs)
        }
    }
    // ---- end of block ----

}

#[rustfmt::skip]
mod block_31 {
    //! Block 31: spawning.md line 408: `let config = SpawnConfig::new()`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    #[allow(unused_variables)]
    pub async fn block_31() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let config = SpawnConfig::new()
        .with_max_spawn_count(100)        // Limit total children
        .with_batch_size(10)              // Process in batches
        .with_spawn_delay(Duration::from_millis(50)); // Rate limiting
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_32_fixed {
    //! Block 32: spawning.md line 433: `impl SpawnHandler<sqlx::Postgres> for SafeSpawner {`

    // Context: the imports a reader carries over from the doc's earlier blocks
    // (a glob, so the block's own `use` lines take precedence over it).
    #[allow(unused_imports)]
    mod ctx {
        pub use hammerwork::*;
        pub use hammerwork::spawn::*;
        pub use serde_json::json;
        pub use std::time::Duration;
    }
    #[allow(unused_imports)]
    use ctx::*;

    // Context: the SafeSpawner the block implements, with the helper it calls.
    pub struct SafeSpawner;
    impl SafeSpawner {
        async fn create_child_job(&self, i: u64, context: &hammerwork::spawn::SpawnContext<sqlx::Postgres>) -> hammerwork::Result<hammerwork::Job> {
            let _ = context;
            Ok(hammerwork::Job::new("child", serde_json::json!({ "i": i })))
        }
    }

    // ---- block text, FIXED: `#[async_trait]` on the impl (as the guide's other handlers have it), and `anyhow!` becomes `SpawnError::failed` ----
    #[async_trait]
    impl SpawnHandler<sqlx::Postgres> for SafeSpawner {
        async fn spawn_jobs(&self, context: SpawnContext<sqlx::Postgres>) -> Result<Vec<Job>> {
            // Validate before spawning
            self.validate_spawn(&context.parent_job, &context.config).await?;

            // Check resource limits
            if context.config.max_spawn_count.unwrap_or(0) > 1000 {
                return Err(hammerwork::spawn::SpawnError::failed("Spawn count exceeds safety limit"));
            }

            // Handle failures gracefully
            let mut successful_jobs = Vec::new();
            let mut failed_count = 0;

            for i in 0..context.config.max_spawn_count.unwrap_or(10) {
                match self.create_child_job(i, &context).await {
                    Ok(job) => successful_jobs.push(job),
                    Err(e) => {
                        failed_count += 1;
                        tracing::warn!("Failed to create child job {}: {}", i, e);

                        // Fail if too many errors
                        if failed_count > 3 {
                            return Err(hammerwork::spawn::SpawnError::failed("Too many spawn failures"));
                        }
                    }
                }
            }

            Ok(successful_jobs)
        }
    }
    // ---- end of block ----

}
