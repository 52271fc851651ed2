"""What people read: the overview report, its queries and the GPU scheduler hints."""
