{#- AWS CUR 2.0 line items, renamed. Landing has typed them (checks/files/aws_cur2.yaml: money as
    exact DECIMAL from AWS's doubles, times UTC); the columns of optional CUR groups (reservation_*,
    savings_plan_*) may be absent from an export and then read as NULL. -#}
{%- set source_relation = source('raw', 'aws_cur2') -%}
with

source as (
    select
        {{ columns_or_null(source_relation, {
            "identity_line_item_id": "varchar",
            "bill_invoice_id": "varchar",
            "bill_billing_entity": "varchar",
            "bill_invoicing_entity": "varchar",
            "bill_payer_account_id": "varchar",
            "bill_payer_account_name": "varchar",
            "bill_billing_period_start_date": "timestamp with time zone",
            "bill_billing_period_end_date": "timestamp with time zone",
            "line_item_usage_account_id": "varchar",
            "line_item_usage_account_name": "varchar",
            "line_item_line_item_type": "varchar",
            "line_item_usage_start_date": "timestamp with time zone",
            "line_item_usage_end_date": "timestamp with time zone",
            "line_item_product_code": "varchar",
            "line_item_usage_type": "varchar",
            "line_item_operation": "varchar",
            "line_item_availability_zone": "varchar",
            "line_item_resource_id": "varchar",
            "line_item_usage_amount": money_type(),
            "line_item_currency_code": "varchar",
            "line_item_unblended_rate": money_type(),
            "line_item_unblended_cost": money_type(),
            "line_item_line_item_description": "varchar",
            "line_item_legal_entity": "varchar",
            "product_servicecode": "varchar",
            "product": "map(varchar, varchar)",
            "product_product_family": "varchar",
            "product_region_code": "varchar",
            "product_instance_type": "varchar",
            "product_sku": "varchar",
            "pricing_term": "varchar",
            "pricing_unit": "varchar",
            "pricing_public_on_demand_rate": money_type(),
            "pricing_public_on_demand_cost": money_type(),
            "reservation_reservation_a_r_n": "varchar",
            "reservation_effective_cost": money_type(),
            "reservation_unused_amortized_upfront_fee_for_billing_period": money_type(),
            "reservation_unused_recurring_fee": money_type(),
            "reservation_unused_quantity": money_type(),
            "reservation_amortized_upfront_fee_for_billing_period": money_type(),
            "pricing_purchase_option": "varchar",
            "savings_plan_savings_plan_a_r_n": "varchar",
            "savings_plan_savings_plan_effective_cost": money_type(),
            "savings_plan_total_commitment_to_date": money_type(),
            "savings_plan_used_commitment": money_type(),
            "resource_tags": "map(varchar, varchar)",
        }) }},
        {{ landing_lineage() }}
    from {{ source_relation }}
),

renamed as (
    select
        -- ids
        identity_line_item_id as line_item_id,
        bill_invoice_id as invoice_id,
        bill_payer_account_id as billing_account_id,
        bill_payer_account_name as billing_account_name,
        line_item_usage_account_id as usage_account_id,
        line_item_usage_account_name as usage_account_name,
        nullif(line_item_resource_id, '') as resource_id,
        nullif(reservation_reservation_a_r_n, '') as reservation_arn,
        nullif(savings_plan_savings_plan_a_r_n, '') as savings_plan_arn,

        -- categories
        line_item_line_item_type as line_item_type,
        line_item_product_code as product_code,
        coalesce(nullif(product_servicecode, ''), line_item_product_code) as service_code,
        product_product_family as product_family,
        nullif(product['product_name'], '') as product_name,
        line_item_usage_type as usage_type,
        line_item_operation as operation,
        nullif(product_region_code, '') as region_code,
        nullif(line_item_availability_zone, '') as availability_zone,
        nullif(product_instance_type, '') as instance_type,
        nullif(product_sku, '') as sku,
        nullif(pricing_term, '') as pricing_term,
        nullif(pricing_purchase_option, '') as pricing_purchase_option,
        nullif(pricing_unit, '') as pricing_unit,
        line_item_line_item_description as description,
        coalesce(bill_invoicing_entity, line_item_legal_entity) as invoicing_entity,
        line_item_currency_code as billing_currency,
        resource_tags,

        -- money
        line_item_unblended_cost as unblended_cost,
        line_item_unblended_rate as unblended_rate,
        pricing_public_on_demand_cost as public_on_demand_cost,
        pricing_public_on_demand_rate as public_on_demand_rate,
        reservation_effective_cost as reservation_effective_cost,
        reservation_unused_amortized_upfront_fee_for_billing_period
            as reservation_unused_amortized_upfront_fee,
        reservation_unused_recurring_fee as reservation_unused_recurring_fee,
        reservation_amortized_upfront_fee_for_billing_period
            as reservation_amortized_upfront_fee,
        reservation_unused_quantity as reservation_unused_quantity,
        savings_plan_savings_plan_effective_cost as savings_plan_effective_cost,
        savings_plan_total_commitment_to_date as savings_plan_total_commitment_to_date,
        savings_plan_used_commitment as savings_plan_used_commitment,

        -- quantities
        line_item_usage_amount as usage_amount,

        -- timestamps (CUR times are UTC; ends are exclusive)
        bill_billing_period_start_date as billing_period_start,
        bill_billing_period_end_date as billing_period_end,
        line_item_usage_start_date as usage_start,
        line_item_usage_end_date as usage_end,

        -- reconciliation: what AWS invoices for the line, and its amortized cost
        line_item_unblended_cost as x_invoice_cost,
        {{ aws_amortized_cost(
            'line_item_line_item_type', 'line_item_unblended_cost', 'savings_plan_savings_plan_effective_cost',
            'savings_plan_total_commitment_to_date', 'savings_plan_used_commitment', 'reservation_effective_cost',
            'reservation_unused_amortized_upfront_fee_for_billing_period', 'reservation_unused_recurring_fee',
            "nullif(reservation_reservation_a_r_n, '') is not null or nullif(savings_plan_savings_plan_a_r_n, '') is not null"
        ) }} as x_amortized_cost,

        -- lineage
        {{ billing_lineage("'aws_cur2'") }}
    from source
)

select * from renamed
