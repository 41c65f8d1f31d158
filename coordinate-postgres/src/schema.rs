// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "attempt_status"))]
    pub struct AttemptStatus;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::AttemptStatus;

    attempt (id) {
        id -> Int4,
        work_unit_id -> Int4,
        worker_id -> Int4,
        status -> AttemptStatus,
        data -> Nullable<Bytea>,
        start_time -> Timestamptz,
        end_time -> Nullable<Timestamptz>,
        expiration_time -> Timestamptz,
        active -> Bool,
        work_spec_id -> Int4,
    }
}

diesel::table! {
    namespace (id) {
        id -> Int4,
        name -> Varchar,
    }
}

diesel::table! {
    work_spec (id) {
        id -> Int4,
        namespace_id -> Int4,
        name -> Varchar,
        data -> Bytea,
        priority -> Int4,
        weight -> Int4,
        paused -> Bool,
        continuous -> Bool,
        can_be_continuous -> Bool,
        interval -> Interval,
        next_continuous -> Nullable<Timestamptz>,
        max_running -> Int4,
        max_attempts_returned -> Int4,
        next_work_spec_name -> Varchar,
        next_work_spec_preempts -> Bool,
        min_memory_gb -> Float8,
        runtime -> Varchar,
        max_retries -> Int4,
    }
}

diesel::table! {
    work_unit (id) {
        id -> Int4,
        work_spec_id -> Int4,
        name -> Bytea,
        data -> Bytea,
        priority -> Float8,
        active_attempt_id -> Nullable<Int4>,
        not_before -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    worker (id) {
        id -> Int4,
        namespace_id -> Int4,
        name -> Varchar,
        parent -> Nullable<Int4>,
        active -> Bool,
        mode -> Varchar,
        data -> Bytea,
        expiration -> Timestamptz,
        last_update -> Timestamptz,
    }
}

diesel::joinable!(attempt -> work_spec (work_spec_id));
diesel::joinable!(attempt -> worker (worker_id));
diesel::joinable!(work_spec -> namespace (namespace_id));
diesel::joinable!(work_unit -> work_spec (work_spec_id));
diesel::joinable!(worker -> namespace (namespace_id));

diesel::allow_tables_to_appear_in_same_query!(attempt, namespace, work_spec, work_unit, worker,);
