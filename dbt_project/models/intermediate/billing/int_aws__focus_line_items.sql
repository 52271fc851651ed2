{#- AWS CUR 2.0 -> FOCUS (the mapping is macros/aws_cur_focus.sql, shared with legacy CUR). -#}
{{ aws_cur_to_focus(ref('stg_aws__cur2_line_items')) }}
