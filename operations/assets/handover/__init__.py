"""Handover (基础设施接管): a department lists assets in a batch, the operations center inspects each one, and
three signatures (department, operations center, bureau) hand the accepted ones over for operation."""
