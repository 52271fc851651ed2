{#- The two ledgers that prove no billing row or cent is lost between landing and the FOCUS table,
    built from the one list of billing inputs (var `billing_inputs` in dbt_project.yml). The views
    billing_row_conservation / billing_cost_reconciliation show them; the blocking tests
    assert_billing_rows_conserved, assert_billed_cost_reconciles_to_raw and
    assert_effective_cost_reconciles_to_amortized fail on any difference. -#}

{#- Per input source (x_source) × billing period: rows landed in raw = distinct landed rows in
    focus_cost_and_usage (a row may become several FOCUS rows: GCP credits) + rows the FOCUS model
    does not take, each with its reason. -#}
{% macro billing_row_conservation() -%}
with

landed as (
    {%- for src in billing_sources_list() %}
    select '{{ src.raw }}' as x_source, x_period as billing_period, count(*) as rows_landed
    from {{ source('raw', src.raw) }}
    group by 1, 2
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

in_focus as (
    select
        x_source,
        x_billing_period as billing_period,
        count(distinct {{ dbt.concat(['x_source_file', "'#'", 'cast(x_source_row as ' ~ sql_type('varchar') ~ ')']) }}) as rows_in_focus
    from {{ ref('focus_cost_and_usage') }}
    group by 1, 2
),

outside_focus as (
    {%- set outside = [] %}
    {%- for input in var('billing_inputs') if input.rows_outside_focus %}{% do outside.append(input.rows_outside_focus) %}{% endfor %}
    {%- for model in outside %}
    select x_source, billing_period, reason, count(*) as row_count
    from {{ ref(model) }}
    group by 1, 2, 3
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not outside %}
    select cast(null as {{ sql_type('varchar') }}) as x_source, cast(null as {{ sql_type('varchar') }}) as billing_period,
        cast(null as {{ sql_type('varchar') }}) as reason, cast(0 as bigint) as row_count
    where false
    {%- endif %}
),

outside_totals as (
    select
        x_source,
        billing_period,
        sum(row_count) as rows_outside_focus,
        {{ dbt.listagg("reason || ' (' || cast(row_count as " ~ sql_type('varchar') ~ ") || ')'", "'; '", "order by reason") }} as outside_focus_reasons
    from outside_focus
    group by 1, 2
),

final as (
    select
        coalesce(landed.x_source, in_focus.x_source, outside_totals.x_source) as x_source,
        coalesce(landed.billing_period, in_focus.billing_period, outside_totals.billing_period) as billing_period,
        coalesce(landed.rows_landed, 0) as rows_landed,
        coalesce(in_focus.rows_in_focus, 0) as rows_in_focus,
        coalesce(outside_totals.rows_outside_focus, 0) as rows_outside_focus,
        outside_totals.outside_focus_reasons,
        coalesce(landed.rows_landed, 0) - coalesce(in_focus.rows_in_focus, 0)
            - coalesce(outside_totals.rows_outside_focus, 0) as rows_unaccounted
    from landed
    full outer join in_focus
        on in_focus.x_source = landed.x_source and in_focus.billing_period = landed.billing_period
    full outer join outside_totals
        on outside_totals.x_source = coalesce(landed.x_source, in_focus.x_source)
        and outside_totals.billing_period = coalesce(landed.billing_period, in_focus.billing_period)
)

select * from final
{%- endmacro %}

{#- Per billing input (its FOCUS model) × billing account × billing period: the input's own invoiced
    cost (Σ x_invoice_cost of its staging models) against Σ BilledCost, and its amortized cost
    against Σ EffectiveCost. The amortized basis is the input's amortized view where it delivered
    rows for that account and period (Azure's amortized-cost export), else the provider's amortized
    cost its other sources state (AWS's amortized-cost columns; Azure actual cost without
    commitment rows), and `effective_cost_basis` says which. -#}
{% macro billing_cost_reconciliation() -%}
with

staged as (
    {%- for src in billing_sources_list() %}
    select
        '{{ src.reconciled_as }}' as billing_input,
        {{ 'true' if src.amortized_basis else 'false' }} as is_amortized_view,
        billing_account_id,
        billing_period,
        x_invoice_cost,
        x_amortized_cost
    from {{ ref(src.staging) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

inputs as (
    select
        billing_input,
        billing_account_id,
        billing_period,
        sum(x_invoice_cost) as invoice_cost,
        count(*) filter (where not is_amortized_view) as invoice_rows,
        count(*) filter (where is_amortized_view) as amortized_view_rows,
        sum(x_amortized_cost) filter (where is_amortized_view) as amortized_view_cost,
        sum(x_amortized_cost) filter (where not is_amortized_view) as own_amortized_cost
    from staged
    group by 1, 2, 3
),

expected as (
    select
        billing_input,
        billing_account_id,
        billing_period,
        invoice_cost,
        case
            when invoice_rows = 0 then null
            when amortized_view_rows > 0 then amortized_view_cost
            else own_amortized_cost
        end as amortized_cost,
        case
            when invoice_rows = 0 then 'none: no invoiced rows (see billing_row_conservation)'
            when amortized_view_rows > 0 then 'amortized export'
            else 'provider amortized cost of the invoiced rows'
        end as effective_cost_basis
    from inputs
),

focus as (
    select
        case x_source
            {%- for src in billing_sources_list() %}
            when '{{ src.raw }}' then '{{ src.reconciled_as }}'
            {%- endfor %}
        end as billing_input,
        "BillingAccountId" as billing_account_id,
        x_billing_period as billing_period,
        sum("BilledCost") as billed_cost,
        sum("EffectiveCost") as effective_cost
    from {{ ref('focus_cost_and_usage') }}
    group by 1, 2, 3
),

final as (
    select
        coalesce(expected.billing_input, focus.billing_input) as billing_input,
        coalesce(expected.billing_account_id, focus.billing_account_id) as billing_account_id,
        coalesce(expected.billing_period, focus.billing_period) as billing_period,
        expected.invoice_cost,
        focus.billed_cost,
        expected.amortized_cost,
        focus.effective_cost,
        expected.effective_cost_basis,
        expected.invoice_cost is not distinct from focus.billed_cost as billed_reconciles,
        expected.amortized_cost is not distinct from focus.effective_cost as effective_reconciles
    from expected
    full outer join focus
        on focus.billing_input = expected.billing_input
        and focus.billing_account_id is not distinct from expected.billing_account_id
        and focus.billing_period = expected.billing_period
)

select * from final
{%- endmacro %}

{#- The same billing line in two files of one input's period: an earlier export's file left beside
    the new one, or two exports of one account overlapping. A line's identity is the input's
    `line_identity` columns in var billing_inputs (a provider's line-item id), else every column of
    its staging row but the lineage. Identical lines inside one file are the provider's own (GCP
    writes such rows) and are not counted. -#}
{% macro billing_lines_in_two_files() -%}
with

lines as (
    {%- for src in billing_sources_list() %}
    select
        '{{ src.raw }}' as x_source,
        billing_period,
        x_source_file,
        {%- if src.line_identity %}
        concat_ws('|', {{ src.line_identity | join(', ') }}) as line_identity
        {%- else %}
        cast({{ row_fingerprint(['x_source_file', 'x_source_row', 'x_export_version']) }} as {{ sql_type('varchar') }}) as line_identity
        {%- endif %}
    from {{ ref(src.staging) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        x_source,
        billing_period,
        line_identity,
        count(distinct x_source_file) as files,
        min(x_source_file) as first_file,
        max(x_source_file) as other_file
    from lines
    group by 1, 2, 3
    having count(distinct x_source_file) > 1
)

select * from final
{%- endmacro %}

{#- A fingerprint of the current row's columns except `exclude` (engine-specific). -#}
{% macro row_fingerprint(exclude) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'atlas')(exclude)) }}
{%- endmacro %}

{% macro duckdb__row_fingerprint(exclude) -%}
    hash(*columns(* exclude ({{ exclude | join(', ') }})))
{%- endmacro %}

{#- Spark cannot hash MAP columns: hash the row's JSON. -#}
{% macro default__row_fingerprint(exclude) -%}
    xxhash64(to_json(struct(* except ({{ exclude | join(', ') }}))))
{%- endmacro %}

{#- Every input source of var `billing_inputs`, flat: its `raw` name (x_source), `staging` model,
    `focus_model` (its input's FOCUS model), options (`amortized_basis`, `line_identity`) and
    `reconciled_as`: the source its cost is reconciled under (itself; an amortized view, its input's
    invoiced source). -#}
{% macro billing_sources_list() -%}
    {%- set sources = [] -%}
    {%- for input in var('billing_inputs') -%}
        {#- an amortized view (Azure's amortized-cost export) is reconciled under its input's invoiced source -#}
        {%- set invoiced = input.sources | rejectattr('amortized_basis') | map(attribute='raw') | list -%}
        {%- for src in input.sources -%}
            {%- do sources.append({
                'raw': src.raw, 'staging': src.staging, 'focus_model': input.focus_model,
                'amortized_basis': src.amortized_basis, 'line_identity': src.line_identity,
                'reconciled_as': invoiced[0] if src.amortized_basis and invoiced else src.raw}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(sources) }}
{%- endmacro %}
