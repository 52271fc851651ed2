{#- The FOCUS cost-and-usage table: every provider's intermediate model conformed to the same
    columns, types and order (FOCUS 1.2 + 1.3 additions, then x_ columns), then a plain union. -#}
{{ focus_conform(ref('int_aws__focus_line_items')) }}
union all
{{ focus_conform(ref('int_gcp__focus_line_items')) }}
union all
{{ focus_conform(ref('int_azure__focus_line_items')) }}
