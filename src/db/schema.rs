// One schema for both backends; the SQL lives in migrations/{postgres,sqlite}.

diesel::table! {
    admins (id) {
        id -> BigInt,
        login -> Text,
        display_name -> Text,
        email -> Text,
        password_hash -> Text,
        must_change_password -> Bool,
        token_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    templates (id) {
        id -> BigInt,
        name -> Text,
        locale -> Text,
        html -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    template_versions (id) {
        id -> BigInt,
        template_id -> BigInt,
        version -> BigInt,
        name -> Text,
        locale -> Text,
        html -> Text,
        saved_at -> Timestamp,
        saved_by -> Text,
    }
}

diesel::table! {
    conferences (call_id) {
        call_id -> Text,
        creator -> Text,
        name -> Text,
        start_at -> Timestamp,
        end_at -> Timestamp,
        link_id -> Nullable<Text>,
        link_type -> Text,
        link -> Nullable<Text>,
        access_code -> Nullable<Text>,
        sip_number -> Nullable<Text>,
        members -> Text,
        admins -> Text,
        locale -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (creator, key) {
        creator -> Text,
        key -> Text,
        request_hash -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        details -> Text,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(template_versions -> templates (template_id));

diesel::allow_tables_to_appear_in_same_query!(
    admins,
    templates,
    template_versions,
    conferences,
    idempotency_keys,
    audit_log,
    settings,
);
