{#- Whether an Azure cost-details row belongs to a commitment (reservation or savings plan): its
    PricingModel. NULL-safe: a blank PricingModel (on-demand rows in many exports) is not one. -#}
{% macro azure_is_commitment(pricing_model) -%}
    coalesce({{ pricing_model }} in ('Reservation', 'SavingsPlan'), false)
{%- endmacro %}

{#- Whether an amortized-export row is one the FOCUS table takes from that export (with BilledCost 0):
    commitment-covered usage, or the unused part of a commitment. Everything else the actual-cost
    export prices. NULL-safe. -#}
{% macro azure_amortized_row_in_focus(alias) -%}
    (
        (coalesce({{ alias }}.charge_type = 'Usage', false) and {{ alias }}.is_commitment)
        or coalesce({{ alias }}.charge_type in ('UnusedReservation', 'UnusedSavingsPlan'), false)
    )
{%- endmacro %}
