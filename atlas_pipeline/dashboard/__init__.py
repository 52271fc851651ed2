"""The interactive dashboard (`atlas dashboard`): a Streamlit app over the published snapshot.

Streamlit serves it on 127.0.0.1 with no network (its frontend ships in the wheel). Every figure is
a SQL result on the rpt_* report models, sliced by `atlas_pipeline.lib.report.report_queries` (the same
slices the offline overview uses). See README.md, "Dashboard", for why Streamlit.
"""
