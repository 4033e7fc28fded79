"""The service catalog the operations center keeps: what can be bought, at what list price, measured how."""
