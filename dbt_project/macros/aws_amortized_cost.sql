{#- AWS's own amortized cost of one CUR line (what Cost Explorer calls amortized cost), written from
    the CUR columns independently of the FOCUS mapping, so the effective-cost reconciliation checks
    the mapping against AWS's definition: covered usage at its commitment cost, the unused part of a
    commitment at its unused fees, commitment fees and negations at 0, everything else as billed.
    Used by both CUR staging models (CUR 2.0 and legacy names). -#}
{% macro aws_amortized_cost(line_type, unblended_cost, sp_effective_cost, sp_commitment, sp_used, ri_effective_cost,
                            ri_unused_upfront, ri_unused_recurring, is_commitment) -%}
    case
        when {{ line_type }} = 'SavingsPlanCoveredUsage' then coalesce({{ sp_effective_cost }}, 0)
        when {{ line_type }} = 'SavingsPlanRecurringFee' then coalesce({{ sp_commitment }}, 0) - coalesce({{ sp_used }}, 0)
        when {{ line_type }} in ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') then 0
        when {{ line_type }} = 'DiscountedUsage' then coalesce({{ ri_effective_cost }}, 0)
        when {{ line_type }} = 'RIFee' then coalesce({{ ri_unused_upfront }}, 0) + coalesce({{ ri_unused_recurring }}, 0)
        when {{ line_type }} = 'Fee' and ({{ is_commitment }}) then 0
        else {{ unblended_cost }}
    end
{%- endmacro %}
