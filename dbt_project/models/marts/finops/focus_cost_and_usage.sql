{#- The FOCUS cost-and-usage table: every billing input's intermediate model (the list
    `billing_inputs` in dbt_project.yml) conformed to the same columns, types and order (FOCUS 1.2
    + 1.3 additions, then x_ columns), then a plain union. Inputs an estate does not have contribute
    no rows. Declare one billing account in one input only (x_source tells which).
    Reporting currency (policy, see docs/focus_mapping.md): BillingCurrency stays as billed; the
    x_*_reporting columns convert it at the FX rate in force on BillingPeriodStart (the latest
    `fx_rates` row dated on or before it), one rate per billing period so that converted totals
    still reconcile per invoice. No rate -> NULL, which a blocking test rejects. -#}
{{ config(materialized='incremental', on_schema_change='append_new_columns', **replace_by_key('x_billing_period')) }}
{%- set incomplete = incomplete_billing_deliveries() %}
{#- The periods to build: the run's billing-period partitions (var billing_periods), else those
    landed since the last build, else (first or full build) every period: macros/incremental.sql. -#}
{%- set periods = billing_periods_to_build(
    this, 'x_loaded_at', focus_columns() + focus_extension_columns() + [('x_delivery_complete', 'boolean')]) %}
{%- if periods is not none %}
    {%- do log('focus_cost_and_usage: building billing periods ' ~ (periods | join(', ') or 'none'), info=True) %}
{%- endif %}
with

unioned as (
    {%- for input in var('billing_inputs') %}
    {{ focus_conform(ref(input.focus_model)) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

{# A build of named periods reads only those periods: the literal filter reaches the landed parquet
   files' x_period column, whose statistics let DuckDB skip the other months' row groups. #}
in_scope as (
    select * from unioned
    {%- if periods is not none %}
    where {{ in_billing_periods('x_billing_period', periods) }}
    {%- endif %}
),

fx_rates as (
    -- Each rate is valid from its date until the currency's next rate: a plain equi-join on the
    -- currency plus a range filter. (An ASOF join would sort the whole wide line-item table, which
    -- took 1.7x the time and 3x the memory at 1M line items; see bench/.)
    select
        currency,
        cast(rate_date as {{ sql_type('timestamp with time zone') }}) as valid_from,
        lead(cast(rate_date as {{ sql_type('timestamp with time zone') }})) over (partition by currency order by rate_date) as valid_to,
        rate_date,
        cast(rate as decimal(18, 8)) as rate
    from {{ ref('fx_rates') }}
    where reporting_currency = '{{ var("reporting_currency") }}'
)

select
    unioned.*,
    '{{ var("reporting_currency") }}' as x_reporting_currency,
    fx_rates.rate as x_fx_rate,
    fx_rates.rate_date as x_fx_rate_date,
    -- Billed in the reporting currency (rate 1): the amount itself, exactly what the product
    -- gives, without a 128-bit multiplication and rescale per row.
    case when fx_rates.rate = 1 then unioned."BilledCost"
        else cast(unioned."BilledCost" * fx_rates.rate as {{ money_type() }}) end as x_billed_cost_reporting,
    case when fx_rates.rate = 1 then unioned."EffectiveCost"
        else cast(unioned."EffectiveCost" * fx_rates.rate as {{ money_type() }}) end as x_effective_cost_reporting,
    {{ run_started_at_utc() }} as x_loaded_at,
    -- false: the current delivery of this row's input and period lost a file to quarantine, so the
    -- period is incomplete (landing.current_files); the pane and fct_cost_daily say so
    {%- if incomplete %}
    ({{ dbt.concat(['unioned.x_source', "'@'", 'unioned.x_billing_period']) }}) not in (
        {%- for source, period in incomplete %}'{{ source }}@{{ period }}'{{ ', ' if not loop.last }}{% endfor -%}
    ) as x_delivery_complete
    {%- else %}
    true as x_delivery_complete
    {%- endif %}
from in_scope as unioned
left join fx_rates
    on fx_rates.currency = unioned."BillingCurrency"
    and unioned."BillingPeriodStart" >= fx_rates.valid_from
    and (fx_rates.valid_to is null or unioned."BillingPeriodStart" < fx_rates.valid_to)
