# Install rules are added with the SDK.
