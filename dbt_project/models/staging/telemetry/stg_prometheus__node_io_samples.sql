{#- node_exporter counters from a Prometheus range-query JSON export (one file per host per day):
    one row per sample of the series Atlas reads as node input (seeds/node_io_signals: disk reads,
    network receive, NFS client reads). The host is the series' `Hostname` / `hostname` /
    `nodename` label, else the file's host (the layout is one file per host), else the `instance`
    label without its port (often an address, so last). Values are cumulative byte counters as the
    kernel reports them; int_node_io_rates turns them into rates. NaN becomes NULL. -#}
with

source as (
    {{ prometheus_range_samples(source('raw_telemetry', 'node_exporter_prometheus_exports')) }}
),

signals as (
    select * from {{ ref('node_io_signals') }}
),

labelled as (
    select
        metric_name,
        coalesce(
            nullif(metric_labels['Hostname'], ''),
            nullif(metric_labels['hostname'], ''),
            nullif(metric_labels['nodename'], ''),
            -- `<host>.json.gz` as exported; landing flattens the folders into the name
            -- (`<cluster>__<day>__<host>.json.gz`): the part after the last `__`
            nullif(regexp_extract(
                regexp_extract(x_source_file, '([^/\\]+?)\.json(?:\.gz)?$', 1), '(?:.*__)?(.+)$', 1
            ), ''),
            nullif(regexp_extract(metric_labels['instance'], '^\[?([^\]]+?)\]?(?::\d+)?$', 1), '')
        ) as hostname,
        coalesce(
            nullif(metric_labels['device'], ''),
            nullif(metric_labels['export'], ''),
            nullif(metric_labels['mountpoint'], '')
        ) as device,
        raw_value,
        epoch_seconds,
        x_source_file
    from source
),

final as (
    select
        -- ids
        labelled.metric_name,
        signals.signal,
        labelled.hostname,
        labelled.device,

        -- value (a cumulative counter, bytes)
        case when isnan(labelled.raw_value) then null else labelled.raw_value end as counter_value,

        -- timestamps
        {{ timestamp_from_epoch_seconds('labelled.epoch_seconds') }} as sample_at,
        cast({{ timestamp_from_epoch_seconds('labelled.epoch_seconds') }} as date) as sample_date,

        -- lineage
        labelled.x_source_file
    from labelled
    inner join signals
        on labelled.metric_name = signals.metric_name
    where labelled.epoch_seconds is not null
        -- virtual devices counted again on a physical one
        and (
            signals.exclude_devices is null
            or labelled.device is null
            or not {{ regex_matches('labelled.device', 'signals.exclude_devices') }}
        )
)

select * from final
