//! The Rust blocks of the user guide `workflows.md` (shared/spec), compiled
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
mod block_01 {
    //! Block 1: workflows.md line 22: `use hammerwork::{Job, queue::DatabaseQueue};`

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
    use hammerwork::{Job, queue::DatabaseQueue};
    use serde_json::json;


    #[allow(unused_variables)]
    pub async fn block_01(queue: hammerwork::MemoryStorage) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    // Create jobs with dependencies
    let job1 = Job::new("data_processing".to_string(), json!({
        "input_file": "raw_data.csv"
    }));

    let job2 = Job::new("data_transformation".to_string(), json!({
        "format": "parquet"
    }))
    .depends_on(&job1.id);  // job2 waits for job1

    let job3 = Job::new("data_export".to_string(), json!({
        "destination": "s3://bucket/processed/"
    }))
    .depends_on(&job2.id);  // job3 waits for job2

    // Enqueue jobs - they'll execute in dependency order
    queue.enqueue(job1).await?;
    queue.enqueue(job2).await?;
    queue.enqueue(job3).await?;
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_02 {
    //! Block 2: workflows.md line 61: `use hammerwork::{Job, JobGroup, FailurePolicy};`

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
    use hammerwork::{Job, JobGroup, FailurePolicy};


    #[allow(unused_variables)]
    pub async fn block_02(queue: hammerwork::MemoryStorage) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    // Create a sequential data processing pipeline
    let extract_job = Job::new("extract".to_string(), json!({
        "source": "database_table",
        "query": "SELECT * FROM customers WHERE created_at > ?"
    }));

    let transform_job = Job::new("transform".to_string(), json!({
        "operations": ["normalize_phone", "validate_email", "enrich_location"]
    }));

    let load_job = Job::new("load".to_string(), json!({
        "destination": "data_warehouse",
        "table": "dim_customers"
    }));

    // Create workflow - each job depends on the previous one
    let workflow = JobGroup::new("etl_pipeline")
        .add_job(extract_job)
        .then(transform_job)  // transform depends on extract
        .then(load_job)       // load depends on transform
        .with_failure_policy(FailurePolicy::FailFast);

    // Enqueue the entire workflow
    queue.enqueue_workflow(workflow).await?;
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_03 {
    //! Block 3: workflows.md line 94: `// Create parallel processing jobs`

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
    pub async fn block_03(queue: hammerwork::MemoryStorage) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    // Create parallel processing jobs
    let region_jobs = vec![
        Job::new("process_region".to_string(), json!({"region": "us-east"})),
        Job::new("process_region".to_string(), json!({"region": "us-west"})),
        Job::new("process_region".to_string(), json!({"region": "eu-west"})),
        Job::new("process_region".to_string(), json!({"region": "ap-south"})),
    ];

    // Create a job that waits for all parallel jobs
    let summary_job = Job::new("create_summary".to_string(), json!({
        "output_file": "global_summary.json",
        "include_all_regions": true
    }));

    // Create workflow with parallel execution and synchronization
    let workflow = JobGroup::new("parallel_processing")
        .add_parallel_jobs(region_jobs)  // These run concurrently
        .then(summary_job)               // This waits for all parallel jobs
        .with_failure_policy(FailurePolicy::ContinueOnFailure);

    queue.enqueue_workflow(workflow).await?;
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_04_fixed {
    //! Block 4: workflows.md line 122: `// Initial job that generates work`

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
    pub async fn block_04(queue: hammerwork::MemoryStorage) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, FIXED: `aggregate_job.depends_on(&job.id)` in a loop threw each result away: the dependencies are given to the builder (`depends_on_jobs`); `.then` after `add_parallel_jobs` already waits for every parallel job ----
    // Initial job that generates work
    let split_job = Job::new("split_data".to_string(), json!({
        "input_file": "large_dataset.csv",
        "chunk_size": 10000
    }));

    // Multiple processing jobs (fan-out)
    let mut processing_jobs = Vec::new();
    for i in 0..10 {
        let job = Job::new("process_chunk".to_string(), json!({
            "chunk_id": i,
            "algorithm": "ml_classification"
        }))
        .depends_on(&split_job.id);

        processing_jobs.push(job);
    }

    // Aggregation job (fan-in)
    let aggregate_job = Job::new("aggregate_results".to_string(), json!({
        "output_format": "final_results.json"
    }))
    .depends_on_jobs(processing_jobs.iter().map(|j| j.id));

    // Add dependencies from all processing jobs to aggregation


    // Create and enqueue workflow
    let workflow = JobGroup::new("fan_out_fan_in")
        .add_job(split_job)
        .add_parallel_jobs(processing_jobs)
        .then(aggregate_job);

    queue.enqueue_workflow(workflow).await?;
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_05 {
    //! Block 5: workflows.md line 166: `let data_job = Job::new("fetch_data".to_string(), json!({"source": "api"}));`

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
    pub async fn block_05() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let data_job = Job::new("fetch_data".to_string(), json!({"source": "api"}));
    let config_job = Job::new("load_config".to_string(), json!({"env": "prod"}));
    let auth_job = Job::new("authenticate".to_string(), json!({"service": "external"}));

    // Job that depends on all three completing
    let process_job = Job::new("process_with_deps".to_string(), json!({
        "operation": "complex_processing"
    }))
    .depends_on(&data_job.id)
    .depends_on(&config_job.id)
    .depends_on(&auth_job.id);
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_06 {
    //! Block 6: workflows.md line 184: `let validation_job = Job::new("validate_input".to_string(), json!({`

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
    pub async fn block_06() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let validation_job = Job::new("validate_input".to_string(), json!({
        "input_file": "data.csv",
        "validation_rules": "strict"
    }));

    // Different paths based on validation result
    let success_job = Job::new("process_valid_data".to_string(), json!({
        "algorithm": "standard_processing"
    }))
    .depends_on(&validation_job.id)
    .with_condition("validation_status == 'valid'");

    let error_job = Job::new("handle_invalid_data".to_string(), json!({
        "action": "quarantine_and_notify"
    }))
    .depends_on(&validation_job.id)
    .with_condition("validation_status == 'invalid'");
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_07 {
    //! Block 7: workflows.md line 212: `let workflow = JobGroup::new("critical_pipeline")`

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
    pub async fn block_07(job1: hammerwork::Job, job2: hammerwork::Job, job3: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let workflow = JobGroup::new("critical_pipeline")
        .add_job(job1)
        .then(job2)
        .then(job3)
        .with_failure_policy(FailurePolicy::FailFast);
    // If job1 fails, job2 and job3 will not execute
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_08 {
    //! Block 8: workflows.md line 225: `let workflow = JobGroup::new("resilient_pipeline")`

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
    pub async fn block_08(job_a: hammerwork::Job, job_b: hammerwork::Job, job_c: hammerwork::Job, final_job: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let workflow = JobGroup::new("resilient_pipeline")
        .add_parallel_jobs(vec![job_a, job_b, job_c])
        .then(final_job)
        .with_failure_policy(FailurePolicy::ContinueOnFailure);
    // If job_a fails, job_b and job_c continue, but final_job won't execute
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_09 {
    //! Block 9: workflows.md line 237: `let workflow = JobGroup::new("manual_review_pipeline")`

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
    pub async fn block_09(critical_job: hammerwork::Job, dependent_job: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let workflow = JobGroup::new("manual_review_pipeline")
        .add_job(critical_job)
        .then(dependent_job)
        .with_failure_policy(FailurePolicy::Manual);
    // If critical_job fails, workflow pauses for manual decision
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_10_fixed {
    //! Block 10: workflows.md line 249: `use hammerwork::{JobGroup, WorkflowStatus};`

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
    use hammerwork::{JobGroup, WorkflowStatus};


    #[allow(unused_variables)]
    pub async fn block_10(queue: hammerwork::MemoryStorage, extract_sales_data: hammerwork::Job, generate_report: hammerwork::Job, send_report_email: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, FIXED: the match adds `WorkflowStatus::Paused` (a Manual workflow's state) and `_` (the enum is non_exhaustive) ----
    // Create workflow with metadata
    let workflow = JobGroup::new("daily_report_generation")
        .with_description("Generate daily sales and analytics reports")
        .with_timeout(Duration::from_hours(2))
        .with_priority(JobPriority::High)
        .add_job(extract_sales_data)
        .then(generate_report)
        .then(send_report_email);

    // Enqueue workflow
    let workflow_id = queue.enqueue_workflow(workflow).await?;

    // Check workflow status
    let status = queue.get_workflow_status(workflow_id).await?;
    match status {
        WorkflowStatus::Running => println!("Workflow is executing"),
        WorkflowStatus::Completed => println!("Workflow completed successfully"),
        WorkflowStatus::Failed => println!("Workflow failed"),
        WorkflowStatus::Cancelled => println!("Workflow was cancelled"),
        WorkflowStatus::Paused => println!("Workflow is paused for an operator"),
        _ => println!("Workflow is {}", status.as_str()),
    }

    // Cancel a running workflow
    queue.cancel_workflow(workflow_id).await?;
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_11 {
    //! Block 11: workflows.md line 281: `let stats = queue.get_workflow_stats(workflow_id).await?;`

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
    pub async fn block_11(queue: hammerwork::MemoryStorage, workflow_id: hammerwork::WorkflowId) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let stats = queue.get_workflow_stats(workflow_id).await?;
    println!("Total jobs: {}", stats.total_jobs);
    println!("Completed: {}", stats.completed_jobs);
    println!("Failed: {}", stats.failed_jobs);
    println!("Pending: {}", stats.pending_jobs);
    println!("Running: {}", stats.running_jobs);
    println!("Completion: {:.1}%", stats.completion_percentage());
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_12_fixed {
    //! Block 12: workflows.md line 385: `let job_a = Job::new("queue".to_string(), json!({}));`

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
    pub async fn block_12() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, FIXED: `job_a.depends_on(&job_c.id)` threw its result away: `let job_a = job_a.depends_on(&job_c.id);` ----
    let job_a = Job::new("queue".to_string(), json!({}));
    let job_b = Job::new("queue".to_string(), json!({})).depends_on(&job_a.id);
    let job_c = Job::new("queue".to_string(), json!({})).depends_on(&job_b.id);

    // This would be detected and rejected
    let job_a = job_a.depends_on(&job_c.id); // Creates A -> B -> C -> A cycle

    let workflow = JobGroup::new("test")
        .add_job(job_a)
        .add_job(job_b)
        .add_job(job_c);

    // Validation will fail with circular dependency error
    match workflow.validate() {
        Ok(_) => println!("Workflow is valid"),
        Err(e) => eprintln!("Validation error: {}", e),
    }
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_13 {
    //! Block 13: workflows.md line 409: `let workflow = JobGroup::new("test_workflow")`

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
    pub async fn block_13(job1: hammerwork::Job, job2: hammerwork::Job, non_existent_id: hammerwork::JobId) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let workflow = JobGroup::new("test_workflow")
        .add_job(job1)
        .add_job(job2.depends_on(&non_existent_id)); // This will fail validation

    workflow.validate()?; // Returns error for missing dependency
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_14 {
    //! Block 14: workflows.md line 423: `let high_priority_job = Job::new("queue".to_string(), json!({}))`

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
    pub async fn block_14(low_priority_job: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let high_priority_job = Job::new("queue".to_string(), json!({}))
        .with_priority(JobPriority::High)
        .depends_on(&low_priority_job.id);

    // high_priority_job won't run until low_priority_job completes,
    // regardless of priority levels
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_15 {
    //! Block 15: workflows.md line 436: `let daily_extract = Job::new("extract".to_string(), json!({}))`

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
    pub async fn block_15() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let daily_extract = Job::new("extract".to_string(), json!({}))
        .with_cron_schedule("0 2 * * *"); // 2 AM daily

    let daily_report = Job::new("report".to_string(), json!({}))
        .depends_on(&daily_extract.id)
        .with_cron_schedule("0 8 * * *"); // 8 AM daily

    // Both jobs will be created daily, with report waiting for extract
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_16 {
    //! Block 16: workflows.md line 451: `let batch_job = Job::new_batch("process_batch".to_string(),`

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
    pub async fn block_16(payload1: serde_json::Value, payload2: serde_json::Value, payload3: serde_json::Value) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let batch_job = Job::new_batch("process_batch".to_string(), 
        vec![payload1, payload2, payload3]);

    let summary_job = Job::new("summarize".to_string(), json!({}))
        .depends_on(&batch_job.id);

    let workflow = JobGroup::new("batch_workflow")
        .add_job(batch_job)
        .then(summary_job);
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_17 {
    //! Block 17: workflows.md line 467: `let trace_id = TraceId::new();`

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
    pub async fn block_17(job1: hammerwork::Job, job2: hammerwork::Job, job3: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    let trace_id = TraceId::new();
    let correlation_id = CorrelationId::from_business_id("daily-report-001");

    let workflow = JobGroup::new("traced_workflow")
        .with_trace_id(trace_id.to_string())
        .with_correlation_id(correlation_id.to_string())
        .add_job(job1.with_trace_id(trace_id.to_string()))
        .then(job2.with_trace_id(trace_id.to_string()))
        .then(job3.with_trace_id(trace_id.to_string()));
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_19 {
    //! Block 19: workflows.md line 495: `// Good: Descriptive workflow and job names`

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
    pub async fn block_19(validate_customer_data: hammerwork::Job, create_customer_account: hammerwork::Job, send_welcome_email: hammerwork::Job, job1: hammerwork::Job, job2: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    // Good: Descriptive workflow and job names
    let workflow = JobGroup::new("customer_onboarding_pipeline")
        .add_job(validate_customer_data)
        .then(create_customer_account)
        .then(send_welcome_email);

    // Avoid: Generic names
    let workflow = JobGroup::new("workflow1")
        .add_job(job1)
        .then(job2);
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_20 {
    //! Block 20: workflows.md line 510: `// Consider what happens when jobs fail`

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
    pub async fn block_20(critical_job: hammerwork::Job, optional_job: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, verbatim ----
    // Consider what happens when jobs fail
    let workflow = JobGroup::new("data_processing")
        .add_job(critical_job)
        .then(optional_job)
        .with_failure_policy(FailurePolicy::ContinueOnFailure)
        .with_retry_policy(RetryPolicy::ExponentialBackoff {
            initial_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(300),
            multiplier: 2.0,
        });
    // ---- end of block ----
        Ok(())
    }

}

#[rustfmt::skip]
mod block_21_fixed {
    //! Block 21: workflows.md line 525: `// Set up monitoring for long-running workflows`

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
    pub async fn block_21(extract_job: hammerwork::Job, transform_job: hammerwork::Job, load_job: hammerwork::Job) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // ---- block text, FIXED: `with_health_check_interval` (no such setting) and `Duration::from_minutes` (not in std) are left out ----
    // Set up monitoring for long-running workflows
    let workflow = JobGroup::new("daily_batch_processing")
        .with_timeout(Duration::from_hours(4))
        .add_job(extract_job)
        .then(transform_job)
        .then(load_job);
    // ---- end of block ----
        Ok(())
    }

}
