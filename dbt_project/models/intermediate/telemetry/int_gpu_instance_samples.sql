{{ config(
    materialized='incremental',
    schema='intermediate',
    on_schema_change='append_new_columns',
    **replace_by_key('sample_date')
) }}
{#- One row per MIG GPU instance and reading time (dcgm-exporter's GPU_I_ID series): who held the
    instance, its share of the GPU and how busy it was. int_gpu_samples has the GPU itself (its
    device readings, and activity summed over its instances by share); the per-job models read the
    instances' holders from here, each credited its share of the GPU (int_gpu_job_readings).
    Incremental by UTC day, as int_gpu_samples. -#}
with

instances as (
    {{ dcgm_instance_readings(mig_only=true) }}
),

gpus as (
    -- the GPU's reading: the host's scrape interval that day
    select telemetry_source, hostname, gpu_index, sample_at, interval_seconds
    from {{ ref('int_gpu_samples') }}
    where {{ telemetry_days_to_build('sample_date', 'sample_date') }}
),

final as (
    select
        -- ids
        instances.hostname,
        instances.gpu_index,
        instances.gpu_instance_id,
        instances.gpu_instance_profile,
        instances.gpu_uuid,
        instances.gpu_model,
        instances.telemetry_source,

        -- who held the instance
        {%- for column in gpu_holder_columns() %}
        instances.{{ column }},
        {%- endfor %}

        -- timestamps
        instances.sample_at,
        instances.sample_date,
        gpus.interval_seconds,

        -- readings: the instance's own (activity relative to the instance: 1 = all its slices busy)
        instances.gpu_share,
        instances.gr_engine_active,
        instances.sm_active,
        instances.tensor_active,
        coalesce(instances.gr_engine_active, instances.sm_active) as activity,
        instances.fb_used_mib
    from instances
    inner join gpus
        on instances.telemetry_source = gpus.telemetry_source
        and instances.hostname = gpus.hostname
        and instances.gpu_index = gpus.gpu_index
        and instances.sample_at = gpus.sample_at
)

select * from final
