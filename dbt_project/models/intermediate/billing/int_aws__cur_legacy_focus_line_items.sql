{#- AWS legacy CUR (CSV, `lineItem/…` names) -> FOCUS, the same mapping as CUR 2.0 (macros/aws_cur_focus.sql). -#}
{{ aws_cur_to_focus(ref('stg_aws__cur_legacy_line_items')) }}
